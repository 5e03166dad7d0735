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
                    blockContext.ReportDiagnostic(Diagnostic.Create(Rule, element.Syntax.GetLocation(), "Volume", path));
                }
            }
        });

        SpecActions.RegisterOperationAction(
            context,
            types,
            new SyntaxFilter { ObjectCreations = true }.WithType(types.Layer),
            operationContext =>
            {
                var (what, argument) = operationContext.Operation switch
                {
                    IInvocationOperation invocation when SpecTypes.Is(invocation.TargetMethod.ContainingType, types.Layer) =>
                        ("Layer destination", invocation.Arguments.Argument("to")),
                    IObjectCreationOperation creation when SpecTypes.Is(creation.Type, types.SecretReference) =>
                        ("Secret path", creation.Arguments.Argument("Path")),
                    _ => (null, null),
                };

                if (what is not null && argument.TryGetString(out var path) && !IsAbsolute(path))
                {
                    operationContext.ReportDiagnostic(Diagnostic.Create(Rule, argument!.Syntax.GetLocation(), what, path));
                }
            },
            OperationKind.Invocation,
            OperationKind.ObjectCreation);
    }

    private static bool IsAbsolute(string path) => path.StartsWith("/", StringComparison.Ordinal);
}
