using System.Reflection;
using System.Text.RegularExpressions;
using Kiln.Analyzers.Infrastructure;
using Kiln.Analyzers.Rules;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Testing;

namespace Kiln.Analyzers.Tests;

/// <summary>The rule catalogue stays consistent: ids, descriptors, release tracking, docs and strict mode agree.</summary>
public sealed class CatalogueTests
{
    private static readonly string[] Ids = [.. typeof(DiagnosticIds)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.IsLiteral)
        .Select(f => (string)f.GetRawConstantValue()!)];

    private static readonly DiagnosticAnalyzer[] Analyzers = [.. typeof(SpecAnalyzer).Assembly.GetTypes()
        .Where(t => !t.IsAbstract && typeof(DiagnosticAnalyzer).IsAssignableFrom(t))
        .OrderBy(t => t.Name, StringComparer.Ordinal)
        .Select(t => (DiagnosticAnalyzer)Activator.CreateInstance(t)!)];

    private static readonly DiagnosticDescriptor[] Descriptors = [.. Analyzers.SelectMany(a => a.SupportedDiagnostics)];

    [Fact]
    public void DiagnosticIds_AreUniqueAndInTheAnalyzerRange()
    {
        Assert.Equal(Ids.Length, Ids.Distinct().Count());
        Assert.All(Ids, id => Assert.Matches("^KILN00[0-9][1-9]$|^KILN00[1-9]0$", id));
    }

    [Fact]
    public void EveryId_HasExactlyOneAnalyzerAndDescriptor()
    {
        Assert.Equal(Ids.Order(), Descriptors.Select(d => d.Id).Order());
        Assert.Equal(Analyzers.Length, Descriptors.Length);
    }

    [Fact]
    public void Descriptors_LinkToTheirSectionOfTheDocs()
    {
        var docs = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "docs", "analyzers.md"));
        Assert.All(Descriptors, d =>
        {
            Assert.Equal("https://github.com/kiln-build/kiln/blob/main/docs/analyzers.md#" + d.Id.ToLowerInvariant(), d.HelpLinkUri);
            Assert.Contains($"<a id=\"{d.Id.ToLowerInvariant()}\"></a>\n## {d.Id}: {d.Title}", docs.ReplaceLineEndings("\n"));
            Assert.True(d.IsEnabledByDefault);
        });
    }

    [Fact]
    public void UnshippedReleaseNotes_ListEveryRuleWithItsCategoryAndSeverity()
    {
        var lines = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "docs", "AnalyzerReleases.Unshipped.md"));
        Assert.All(Descriptors, d => Assert.Contains(lines, l => Regex.IsMatch(l, $@"^{d.Id} \| {Regex.Escape(d.Category)} \| {d.DefaultSeverity} \|")));
    }

    [Fact]
    public void StrictGlobalConfig_MakesEveryRuleAnError()
    {
        var config = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "docs", "Kiln.Analyzers.strict.globalconfig"));
        Assert.Contains("is_global = true", config);
        Assert.All(Ids, id => Assert.Contains($"dotnet_diagnostic.{id}.severity = error", config));
        Assert.Equal(Ids.Length, config.Count(l => l.StartsWith("dotnet_diagnostic.", StringComparison.Ordinal)));
    }

    [Fact]
    public Task AllAnalyzers_OnAWellFormedSpec_ReportNothing()
    {
        var test = new AllAnalyzersTest
        {
            TestCode = """
                public sealed class ShopApi : ServerSpec
                {
                    private const int HttpPort = 8080;

                    public override string Name => "shop-api";
                    public override string Version => "1.4.0";
                    public override BaseImage Base => BaseImage.Debian("bookworm", ["libc6", "libstdc++6", "ca-certificates"]);
                    public override ImmutableArray<Layer> Layers =>
                    [
                        Layer.PublishOutput("../Shop.Api/Shop.Api.csproj", to: "/app"),
                        Layer.File("config/appsettings.Production.json", to: "/app/appsettings.json"),
                    ];
                    public override Account Account => Account.NonRoot("shop", uid: 10001);
                    public override string WorkingDirectory => "/app";
                    public override Entrypoint Entrypoint => new("/app/Shop.Api", "--urls", "http://+:8080");
                    public override ImmutableArray<EnvironmentVariable> Environment => [new("ASPNETCORE_ENVIRONMENT", "Production")];
                    public override ImmutableArray<Port> Ports => [Port.Tcp(HttpPort, "http"), Port.Udp(HttpPort)];
                    public override HealthCheck Health => HealthCheck.Http(HttpPort, "/healthz");
                    public override Limits Limits => new() { OpenFiles = 65_536 };
                    public override ImmutableArray<string> Volumes => ["/var/lib/shop"];
                    public override ImmutableArray<SecretReference> Secrets => [new("shop-db", EnvironmentVariable: "ConnectionStrings__Db")];
                }

                public sealed class Gateway : ServerSpec
                {
                    public override string Name => "gateway";
                    public override string Version => "2.0.0-rc.1";
                    public override BaseImage Base => BaseImage.Registry("ghcr.io/acme/envoy:1.31@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
                }
                """,
        };
        TestSetup.Configure(test, editorConfig: "kiln.allowed_registries = ghcr.io/acme\nkiln.require_package_pins = false");
        return test.RunAsync();
    }

    [Fact]
    public async Task AllAnalyzers_WithoutKilnSpec_RegisterNothing()
    {
        // A look-alike ServerSpec in another namespace: without Kiln.Spec referenced, no rule may run.
        var source = """
            namespace Other
            {
                public abstract class ServerSpec { }
                public sealed class Api : ServerSpec
                {
                    public int Replicas { get; set; }
                    public System.Collections.Generic.List<string> Hosts { get; } = new();
                    public string Version => System.DateTime.UtcNow.ToString();
                }
            }
            """;
        var compilation = CSharpCompilation.Create(
            "NoSpec",
            [CSharpSyntaxTree.ParseText(source)],
            TestSetup.NetCoreAppReferences.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        Assert.Empty(compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));

        var diagnostics = await compilation.WithAnalyzers([.. Analyzers]).GetAnalyzerDiagnosticsAsync();

        Assert.Empty(diagnostics);
    }

    private sealed class AllAnalyzersTest : CSharpAnalyzerTest<SettablePropertyAnalyzer, DefaultVerifier>
    {
        protected override IEnumerable<DiagnosticAnalyzer> GetDiagnosticAnalyzers() => Analyzers;
    }
}
