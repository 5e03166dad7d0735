using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Kiln.Analyzers.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KILN0022: two concrete server specs in one compilation with the same name and version. Needs the whole
/// compilation, so it is reported at the end of it (build and full-solution analysis, not as you type).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class DuplicateServerAnalyzer : SpecAnalyzer
{
    public static readonly DiagnosticDescriptor Rule = Descriptors.Create(
        DiagnosticIds.DuplicateServer,
        "Two servers share a name and version",
        "Servers '{0}' and '{1}' are both '{2}:{3}'; an image tag must name one image",
        Descriptors.Correctness,
        DiagnosticSeverity.Error,
        "Name and version are the image's tag and its key in kiln.lock.json. Two specs with the same pair would write two images under one tag, and the lock could not tell which one a release means.",
        WellKnownDiagnosticTags.CompilationEnd);

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => [Rule];

    private protected override void Register(CompilationStartAnalysisContext context, SpecTypes types)
    {
        // Values of Name/Version overrides, per declaring type; a concrete type takes the nearest override up its chain.
        var names = new ConcurrentDictionary<INamedTypeSymbol, (string Value, Location Location)>(SymbolEqualityComparer.Default);
        var versions = new ConcurrentDictionary<INamedTypeSymbol, (string Value, Location Location)>(SymbolEqualityComparer.Default);
        var servers = new ConcurrentBag<INamedTypeSymbol>();

        SpecActions.RegisterPropertyValueAction(context, types, "Name", (block, property, value) => Record(names, property, value));
        SpecActions.RegisterPropertyValueAction(context, types, "Version", (block, property, value) => Record(versions, property, value));
        context.RegisterSymbolAction(
            symbolContext =>
            {
                if (symbolContext.Symbol is INamedTypeSymbol { IsAbstract: false } type && types.IsServerSpec(type))
                {
                    servers.Add(type);
                }
            },
            SymbolKind.NamedType);

        context.RegisterCompilationEndAction(end =>
        {
            var seen = new Dictionary<(string, string), INamedTypeSymbol>();
            foreach (var server in servers.OrderBy(s => s.Locations.FirstOrDefault()?.SourceTree?.FilePath).ThenBy(s => s.Locations.FirstOrDefault()?.SourceSpan.Start))
            {
                if (Resolve(names, server, types, "Name") is not { } name || Resolve(versions, server, types, "Version") is not { } version)
                {
                    continue;
                }

                if (seen.TryGetValue((name.Value, version.Value), out var first))
                {
                    var location = server.Locations.FirstOrDefault(l => l.IsInSource) ?? Location.None;
                    end.ReportDiagnostic(Diagnostic.Create(Rule, location, [name.Location, version.Location], first.Name, server.Name, name.Value, version.Value));
                }
                else
                {
                    seen[(name.Value, version.Value)] = server;
                }
            }
        });
    }

    private static void Record(ConcurrentDictionary<INamedTypeSymbol, (string, Location)> values, IPropertySymbol property, IOperation value)
    {
        if (value.TryGetString(out var text))
        {
            values[property.ContainingType] = (text, value.Syntax.GetLocation());
        }
    }

    private static (string Value, Location Location)? Resolve(ConcurrentDictionary<INamedTypeSymbol, (string, Location)> values, INamedTypeSymbol server, SpecTypes types, string propertyName)
    {
        for (var type = server; type is not null && !SymbolEqualityComparer.Default.Equals(type, types.ServerSpec); type = type.BaseType)
        {
            if (values.TryGetValue(type, out var value))
            {
                return value;
            }

            // An override whose value is not a constant (or lives in another assembly) hides any value further up.
            if (type.GetMembers(propertyName).OfType<IPropertySymbol>().Any(p => types.IsServerSpecProperty(p, propertyName)))
            {
                return null;
            }
        }

        return null;
    }
}
