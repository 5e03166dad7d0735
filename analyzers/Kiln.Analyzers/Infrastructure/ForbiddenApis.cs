using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers.Infrastructure;

/// <summary>
/// A set of APIs that spec code must not touch: whole types (every member and constructor) and single members,
/// resolved once per compilation. Reports the first use in each operation.
/// </summary>
internal sealed class ForbiddenApis
{
    private readonly HashSet<INamedTypeSymbol> _types = new(SymbolEqualityComparer.Default);
    private readonly Dictionary<INamedTypeSymbol, HashSet<string>> _members = new(SymbolEqualityComparer.Default);

    // A use names a forbidden type's member, or creates an object (of a forbidden type, or of a type derived from one).
    // Not seen: a member that a type derived from a forbidden type declares itself, called on an instance obtained otherwise.
    private readonly SyntaxFilter _filter = new() { ObjectCreations = true };

    public ForbiddenApis(Compilation compilation, IEnumerable<string> wholeTypes, IEnumerable<(string Type, string Member)> members)
    {
        foreach (var name in wholeTypes)
        {
            if (compilation.GetTypeByMetadataName(name) is { } type)
            {
                _types.Add(type);
                _filter.WithType(type);
            }
        }

        foreach (var (typeName, member) in members)
        {
            if (compilation.GetTypeByMetadataName(typeName) is { } type)
            {
                if (!_members.TryGetValue(type, out var names))
                {
                    _members[type] = names = [];
                }

                names.Add(member);
                _filter.WithNames([member]);
            }
        }
    }

    public bool IsEmpty => _types.Count == 0 && _members.Count == 0;

    /// <summary>The member an operation uses, when it is forbidden.</summary>
    public ISymbol? Match(IOperation operation)
    {
        ISymbol? member = operation switch
        {
            IInvocationOperation invocation => invocation.TargetMethod,
            IPropertyReferenceOperation property => property.Property,
            IFieldReferenceOperation field => field.Field,
            IObjectCreationOperation creation => creation.Constructor,
            IEventReferenceOperation @event => @event.Event,
            _ => null,
        };

        if (member?.ContainingType is not { } type)
        {
            return null;
        }

        for (var t = type.OriginalDefinition; t is not null; t = t.BaseType?.OriginalDefinition)
        {
            if (_types.Contains(t))
            {
                return member;
            }
        }

        var name = member is IMethodSymbol { MethodKind: MethodKind.Constructor } ? ".ctor" : member.Name;
        return _members.TryGetValue(type.OriginalDefinition, out var names) && names.Contains(name) ? member : null;
    }

    private static IOperation? Instance(IOperation operation) => operation switch
    {
        IInvocationOperation invocation => invocation.Instance?.WalkDownConversion(),
        IPropertyReferenceOperation property => property.Instance?.WalkDownConversion(),
        IFieldReferenceOperation field => field.Instance?.WalkDownConversion(),
        IEventReferenceOperation @event => @event.Instance?.WalkDownConversion(),
        _ => null,
    };

    /// <summary>
    /// Reports <paramref name="rule"/> on each use of a forbidden API in spec code, naming it as <c>Type.Member</c>
    /// (<c>Type.new</c> for a constructor).
    /// </summary>
    public static void Register(
        CompilationStartAnalysisContext context,
        SpecTypes types,
        DiagnosticDescriptor rule,
        IEnumerable<string> wholeTypes,
        IEnumerable<(string Type, string Member)> members) =>
        new ForbiddenApis(context.Compilation, wholeTypes, members).Register(context, types, rule);

    private static string Describe(ISymbol member) =>
        member.ContainingType.Name + "." + (member is IMethodSymbol { MethodKind: MethodKind.Constructor } ? "new" : member.Name);

    private void Register(CompilationStartAnalysisContext context, SpecTypes types, DiagnosticDescriptor rule)
    {
        if (IsEmpty)
        {
            return;
        }

        SpecActions.RegisterOperationAction(
            context,
            types,
            _filter,
            operationContext =>
            {
                // `Process.GetCurrentProcess().Id` is one use, reported on the call that produced the instance.
                if (Match(operationContext.Operation) is { } member && (Instance(operationContext.Operation) is not { } receiver || Match(receiver) is null))
                {
                    operationContext.ReportDiagnostic(Diagnostic.Create(rule, operationContext.Operation.Syntax.GetLocation(), Describe(member)));
                }
            },
            OperationKind.Invocation,
            OperationKind.PropertyReference,
            OperationKind.FieldReference,
            OperationKind.ObjectCreation,
            OperationKind.EventReference);
    }
}
