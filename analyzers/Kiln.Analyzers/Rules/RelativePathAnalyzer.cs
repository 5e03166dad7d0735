using System;
using System.Collections.Immutable;
using Kiln.Analyzers.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KILN0019: a path inside the image that is not absolute: the working directory, a layer's destination
/// (<c>to:</c>), a volume, or the file a secret is mounted at.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class RelativePathAnalyzer : SpecAnalyzer
{
    public static readonly DiagnosticDescriptor Rule = Descriptors.Create(
        DiagnosticIds.RelativePath,
        "Path in the image is not absolute",
        "{0} '{1}' is not an absolute path; paths inside the image start with '/'",
        Descriptors.Correctness,
        DiagnosticSeverity.Error,
        "A relative path inside an image means whatever the runtime's current directory is: the same spec could place files, or start, in different places.");

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => [Rule];

    private protected override void Register(CompilationStartAnalysisContext context, SpecTypes types)
    {
        SpecActions.RegisterPropertyValueAction(context, types, "WorkingDirectory", (blockContext, property, value) =>
        {
            if (value.TryGetString(out var path) && !IsAbsolute(path))
            {
                blockContext.ReportDiagnostic(Diagnostic.Create(Rule, value.Syntax.GetLocation(), "Working directory", path));
            }
        });

        SpecActions.RegisterPropertyValueAction(context, types, "Volumes", (blockContext, property, value) =>
        {
            foreach (var element in value.CollectionElements())
            {
                if (element.TryGetString(out var path) && !IsAbsolute(path))
                {
                    blockContext.ReportDiagnostic(Diagnostic.Create(Rule, element.Origin.Syntax.GetLocation(), "Volume", path));
                }
            }
        });

        SpecActions.RegisterOperationAction(
            context,
            types,
            new SyntaxFilter("Path") { ObjectCreations = true }.WithType(types.Layer),
            operationContext =>
            {
                var operation = operationContext.Operation;
                var (what, argument) = operation switch
                {
                    // A destination replaced by `with { To = … }` is judged on the `with`.
                    IInvocationOperation invocation when SpecTypes.Is(invocation.TargetMethod.ContainingType, types.Layer) && !operation.IsReplacedByWith("To") =>
                        ("Layer destination", invocation.Arguments.Argument("to")),
                    IObjectCreationOperation creation when SpecTypes.Is(creation.Type, types.SecretReference) && !operation.IsReplacedByWith("Path") =>
                        ("Secret path", creation.Arguments.Argument("Path")),
                    IWithOperation with when IsLayer(with.Type, types) => ("Layer destination", with.Initializer.InitializedMember("To")),
                    IWithOperation with when SpecTypes.Is(with.Type, types.SecretReference) => ("Secret path", with.Initializer.InitializedMember("Path")),
                    _ => (null, null),
                };

                if (what is not null && argument.TryGetString(out var path) && !IsAbsolute(path))
                {
                    operationContext.ReportDiagnostic(Diagnostic.Create(Rule, argument!.Syntax.GetLocation(), what, path));
                }
            },
            OperationKind.Invocation,
            OperationKind.ObjectCreation,
            OperationKind.With);
    }

    private static bool IsLayer(ITypeSymbol? type, SpecTypes types)
    {
        for (var t = type; t is not null; t = t.BaseType)
        {
            if (SpecTypes.Is(t, types.Layer))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsAbsolute(string path) => path.StartsWith("/", StringComparison.Ordinal);
}
