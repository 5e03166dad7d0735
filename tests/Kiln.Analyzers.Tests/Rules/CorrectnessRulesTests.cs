using Kiln.Analyzers.Rules;
using Microsoft.CodeAnalysis.Testing;

namespace Kiln.Analyzers.Tests.Rules;

public sealed class RelativePathAnalyzerTests
{
    [Fact]
    public Task RelativePathsInImage_Report() =>
        Verify<RelativePathAnalyzer>.AnalyzerAsync("""
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public override string WorkingDirectory => {|KILN0019:"app"|};
                public override ImmutableArray<Layer> Layers => [Layer.PublishOutput("../Api/Api.csproj", to: {|KILN0019:"app"|})];
                public override ImmutableArray<string> Volumes => [{|KILN0019:"data"|}];
                public override ImmutableArray<SecretReference> Secrets => [new("tls", Path: {|KILN0019:"certs/tls.pem"|})];
            }
            """);

    [Fact]
    public Task AbsolutePathsAndSourcePaths_DoNotReport() =>
        Verify<RelativePathAnalyzer>.AnalyzerAsync("""
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public override string WorkingDirectory => "/app";
                public override ImmutableArray<Layer> Layers => [Layer.PublishOutput("../Api/Api.csproj", to: "/app"), Layer.Directory("static", "/app/wwwroot")];
                public override ImmutableArray<string> Volumes => ["/var/lib/api"];
                public override ImmutableArray<SecretReference> Secrets => [new("tls", Path: "/run/secrets/tls.pem")];
            }
            """);
}

public sealed class PortOutOfRangeAnalyzerTests
{
    [Fact]
    public Task PortOutsideRange_Reports() =>
        Verify<PortOutOfRangeAnalyzer>.AnalyzerAsync("""
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public override ImmutableArray<Port> Ports => [Port.Tcp({|KILN0020:0|}), new({|KILN0020:70000|}, Protocol.Udp)];
                public override HealthCheck Health => HealthCheck.Http({|KILN0020:-1|});
            }
            """);

    [Fact]
    public Task PortsAtTheEdges_DoNotReport() =>
        Verify<PortOutOfRangeAnalyzer>.AnalyzerAsync("""
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public override ImmutableArray<Port> Ports => [Port.Tcp(1), Port.Udp(65535)];
                public override HealthCheck Health => HealthCheck.Http(8080);
            }
            """);
}

public sealed class DuplicatePortAnalyzerTests
{
    [Fact]
    public Task SamePortAndProtocolTwice_Reports() =>
        Verify<DuplicatePortAnalyzer>.AnalyzerAsync("""
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public override ImmutableArray<Port> Ports => [Port.Tcp(8080, "http"), {|KILN0021:new(8080)|}];
            }
            """);

    [Fact]
    public Task SameNumberOtherProtocol_DoesNotReport() =>
        Verify<DuplicatePortAnalyzer>.AnalyzerAsync("""
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public override ImmutableArray<Port> Ports => [Port.Tcp(53), Port.Udp(53), Port.Tcp(8080)];
            }
            """);
}

public sealed class DuplicateServerAnalyzerTests
{
    [Fact]
    public Task SameNameAndVersion_Reports() =>
        Verify<DuplicateServerAnalyzer>.AnalyzerAsync(
            """
            public abstract class ApiBase : ServerSpec
            {
                public override string Name => {|#1:"api"|};
            }

            public sealed class Api : ApiBase
            {
                public override string Version => "1.0.0";
            }

            public sealed class {|#0:ApiCopy|} : ServerSpec
            {
                public override string Name => {|#2:"api"|};
                public override string Version => {|#3:"1.0.0"|};
            }
            """,
            new DiagnosticResult(DuplicateServerAnalyzer.Rule).WithLocation(0).WithLocation(2).WithLocation(3).WithArguments("Api", "ApiCopy", "api", "1.0.0"));

    [Fact]
    public Task SameNameOtherVersionOrAbstract_DoesNotReport() =>
        Verify<DuplicateServerAnalyzer>.AnalyzerAsync("""
            public abstract class ApiBase : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
            }

            public sealed class Api : ApiBase
            {
            }

            public sealed class ApiNext : ApiBase
            {
                public override string Version => "1.1.0";
            }
            """);
}

public sealed class VersionNotSemVerAnalyzerTests
{
    [Fact]
    public Task NonSemVerVersions_Report() =>
        Verify<VersionNotSemVerAnalyzer>.AnalyzerAsync("""
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => {|KILN0023:"1.4"|};
            }

            public sealed class Worker : ServerSpec
            {
                public override string Name => "worker";
                public override string Version => {|KILN0023:"v2.0.0"|};
            }

            public sealed class Cron : ServerSpec
            {
                public override string Name => "cron";
                public override string Version => {|KILN0023:"1.0.0+build.5"|};
            }
            """);

    [Fact]
    public Task SemVerVersions_DoNotReport() =>
        Verify<VersionNotSemVerAnalyzer>.AnalyzerAsync("""
            public sealed class Api : ServerSpec
            {
                private const string Major = "2";
                public override string Name => "api";
                public override string Version => Major + ".0.0-rc.1";
            }

            public sealed class Worker : ServerSpec
            {
                public override string Name => "worker";
                public override string Version => "10.20.30";
            }
            """);
}

public sealed class InvalidImageNameAnalyzerTests
{
    [Fact]
    public Task InvalidNames_Report() =>
        Verify<InvalidImageNameAnalyzer>.AnalyzerAsync("""
            public sealed class Api : ServerSpec
            {
                public override string Name => {|KILN0025:"Shop API"|};
                public override string Version => "1.0.0";
            }

            public sealed class Worker : ServerSpec
            {
                public override string Name => {|KILN0025:"worker..jobs"|};
                public override string Version => "1.0.0";
            }

            // One path component, as evaluation (KILN2003) checks it: the path in front is KilnRepositoryPrefix.
            public sealed class Nested : ServerSpec
            {
                public override string Name => {|KILN0025:"shop/api-v2"|};
                public override string Version => "1.0.0";
            }
            """);

    [Fact]
    public Task ValidNames_DoNotReport() =>
        Verify<InvalidImageNameAnalyzer>.AnalyzerAsync("""
            public sealed class Api : ServerSpec
            {
                public override string Name => "shop-api-v2";
                public override string Version => "1.0.0";
            }

            public sealed class Worker : ServerSpec
            {
                public override string Name => "shop.worker__jobs--x";
                public override string Version => "1.0.0";
            }
            """);
}
