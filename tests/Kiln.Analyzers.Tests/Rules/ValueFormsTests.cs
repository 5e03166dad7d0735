using Kiln.Analyzers.Rules;

namespace Kiln.Analyzers.Tests.Rules;

/// <summary>
/// The forms in which real specs produce the values the rules check: constants, static readonly fields, helper
/// members, interpolation, ternaries, switch expressions, collections built up or wrapped, and <c>with</c>
/// expressions. Each rule must see the value however it is written, and must say nothing when the value cannot be
/// known (a doubt is never an error).
/// </summary>
public sealed class VersionValueFormsTests
{
    [Fact]
    public Task VersionFromFieldsHelpersInterpolationAndTernaries_Reports() =>
        Verify<VersionNotSemVerAnalyzer>.AnalyzerAsync("""
            public static class Versions
            {
                public static readonly string Api = "1.0";
                public const int Major = 3;
            }

            public sealed class A : ServerSpec
            {
                private static readonly string Current = "v2";
                public override string Name => "a";
                public override string Version => {|KILN0023:Current|};
            }

            public sealed class B : ServerSpec
            {
                public override string Name => "b";
                public override string Version => {|KILN0023:Versions.Api|};
            }

            public sealed class C : ServerSpec
            {
                private static string Release => "latest";
                public override string Name => "c";
                public override string Version => {|KILN0023:Release|};
            }

            public sealed class D : ServerSpec
            {
                private static string Make() { return "1.0.0.0"; }
                public override string Name => "d";
                public override string Version => {|KILN0023:Make()|};
            }

            public sealed class E : ServerSpec
            {
                public override string Name => "e";
                public override string Version => {|KILN0023:$"{Versions.Major}.1"|};
            }

            public sealed class F : ServerSpec
            {
                private static readonly bool Preview = DateTime.Now.Ticks > 0;
                public override string Name => "f";
                public override string Version => Preview ? {|KILN0023:"dev"|} : "1.0.0";
            }

            public sealed class G : ServerSpec
            {
                private static string Of(int major, string pre) => $"{major}.0.0-{pre}";
                public override string Name => "g";
                public override string Version => {|KILN0023:Of(1, "rc.01")|};
            }

            public sealed class H : ServerSpec
            {
                public override string Name => "h";
                public override string Version
                {
                    get
                    {
                        const string prefix = "release-";
                        return {|KILN0023:prefix + "1.0.0"|};
                    }
                }
            }

            public sealed class I : ServerSpec
            {
                private static readonly int Channel = 2;
                public override string Name => "i";
                public override string Version => Channel switch
                {
                    1 => "1.0.0",
                    _ => {|KILN0023:"2.0"|},
                };
            }

            public sealed class J : ServerSpec
            {
                private static string Beta { get; } = "2.0.0-beta..1";
                public override string Name => "j";
                public override string Version => {|KILN0023:Beta|};
            }

            // Both branches of the helper give the same bad value: one diagnostic, at the call.
            public sealed class K : ServerSpec
            {
                private static readonly bool Flag = DateTime.Now.Ticks > 0;
                private static string Pick(bool preview) => preview ? "dev" : "dev";
                public override string Name => "k";
                public override string Version => {|KILN0023:Pick(Flag)|};
            }
            """);

    [Fact]
    public Task ValidOrUnknownVersions_DoNotReport() =>
        Verify<VersionNotSemVerAnalyzer>.AnalyzerAsync("""
            public static class Versions
            {
                public static readonly string Api = "2.0.0";
                public static string Mutable = "not a version";
            }

            public sealed class A : ServerSpec
            {
                public override string Name => "a";
                public override string Version => Versions.Api;
            }

            // A field anyone may assign: its value is unknown, so nothing is reported.
            public sealed class B : ServerSpec
            {
                public override string Name => "b";
                public override string Version => Versions.Mutable;
            }

            // A subclass may override Release: unknown.
            public class C : ServerSpec
            {
                protected virtual string Release => "dev";
                public override string Name => "c";
                public override string Version => Release;
            }

            // A constructor assigns the field: its initializer is not its value.
            public sealed class D : ServerSpec
            {
                private readonly string version = "dev";
                public D() { version = "1.0.0"; }
                public override string Name => "d";
                public override string Version => version;
            }

            // Reassigned local: unknown.
            public sealed class E : ServerSpec
            {
                public override string Name => "e";
                public override string Version
                {
                    get
                    {
                        var v = "dev";
                        v = "1.0.0";
                        return v;
                    }
                }
            }

            // Helpers that call each other forever are given up on, not followed.
            public sealed class F : ServerSpec
            {
                private static string Ping => Pong;
                private static string Pong => Ping;
                public override string Name => "f";
                public override string Version => Ping;
            }

            public sealed class G : ServerSpec
            {
                private const int Major = 2;
                private static string Of(int major, int minor) => $"{major}.{minor}.0";
                public override string Name => "g";
                public override string Version => Of(Major, 10);
            }

            // A negative number is formatted by the culture: not read.
            public sealed class H : ServerSpec
            {
                private static string Of(int major) => $"{major}.0.0";
                public override string Name => "h";
                public override string Version => Of(-1);
            }

            public sealed class I : ServerSpec
            {
                private static readonly bool Preview = DateTime.Now.Ticks > 0;
                public override string Name => "i";
                public override string Version => Preview ? "2.0.0-rc.1" : "2.0.0";
            }

            // A known flag picks the branch: the other one is dead and never checked.
            public sealed class K : ServerSpec
            {
                private static readonly bool Preview = false;
                private static readonly string Channel = "stable";
                public override string Name => "k";
                public override string Version => Preview ? "dev" : !Preview && Channel == "stable" ? "2.0.0" : "nightly";
            }

            public sealed class L : ServerSpec
            {
                private const int Track = 2;
                public override string Name => "l";
                public override string Version => Track switch
                {
                    1 => "one",
                    2 => "2.0.0",
                    _ => throw new InvalidOperationException(),
                };
            }

            // An enum is formatted by its name ("1.0.0-ab"), which its value (0, 1) does not give: not read.
            public enum Stage { a, b }

            public sealed class M : ServerSpec
            {
                public override string Name => "m";
                public override string Version => $"1.0.0-{Stage.a}{Stage.b}";
            }

            // Formats and alignments depend on formatting rules: not read.
            public sealed class J : ServerSpec
            {
                private const int Major = 1;
                public override string Name => "j";
                public override string Version => $"{Major:D2}.0";
            }
            """);

    [Fact]
    public Task VersionDeclaredInAnotherFile_ReportsAtTheUse() =>
        Verify<VersionNotSemVerAnalyzer>.AnalyzerAsync(
            [
                """
                public sealed class Api : ServerSpec
                {
                    public override string Name => "api";
                    public override string Version => {|KILN0023:Release.Current|};
                }
                """,
                """
                public static class Release
                {
                    public static string Current => $"{Year}.{Month}";
                    private static readonly int Year = 2026;
                    private const int Month = 11;
                }
                """,
            ],
            editorConfig: null);
}

public sealed class NameValueFormsTests
{
    [Fact]
    public Task NameFromConstantsHelpersAndInterpolation_Reports() =>
        Verify<InvalidImageNameAnalyzer>.AnalyzerAsync("""
            public static class Names
            {
                public const string Team = "shop";
                public static readonly string Api = "Api";
            }

            public sealed class A : ServerSpec
            {
                public override string Name => {|KILN0025:$"{Names.Team}/api"|};
                public override string Version => "1.0.0";
            }

            public sealed class B : ServerSpec
            {
                public override string Name => {|KILN0025:Names.Api|};
                public override string Version => "1.0.0";
            }

            public sealed class C : ServerSpec
            {
                public override string Name => {|KILN0025:nameof(C)|};
                public override string Version => "1.0.0";
            }

            public sealed class D : ServerSpec
            {
                public override string Name => {|KILN0025:Names.Team + "-"|};
                public override string Version => "1.0.0";
            }

            public sealed class E : ServerSpec
            {
                public override string Name => {|KILN0025:"api\n"|};
                public override string Version => "1.0.0";
            }
            """);

    [Fact]
    public Task ValidOrUnknownNames_DoNotReport() =>
        Verify<InvalidImageNameAnalyzer>.AnalyzerAsync("""
            public static class Names
            {
                public const string Team = "shop";
            }

            public sealed class A : ServerSpec
            {
                public override string Name => $"{Names.Team}-api";
                public override string Version => "1.0.0";
            }

            public sealed class B : ServerSpec
            {
                public override string Name => nameof(B).ToLowerInvariant();
                public override string Version => "1.0.0";
            }

            public sealed class C : ServerSpec
            {
                public override string Name => "a" + new string('b', 127);
                public override string Version => "1.0.0";
            }
            """);
}

public sealed class DuplicateServerValueFormsTests
{
    [Fact]
    public Task SameNameAndVersionThroughConstants_Reports() =>
        Verify<DuplicateServerAnalyzer>.AnalyzerAsync("""
            public static class Release
            {
                public static readonly string Version = "1.0.0";
            }

            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => Release.Version;
            }

            public sealed class {|KILN0022:ApiCopy|} : ServerSpec
            {
                private const string Base = "ap";
                public override string Name => $"{Base}i";
                public override string Version => "1.0.0";
            }
            """);

    [Fact]
    public Task EitherOfTwoVersions_DoesNotReport() =>
        Verify<DuplicateServerAnalyzer>.AnalyzerAsync("""
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
            }

            public sealed class ApiNext : ServerSpec
            {
                private static readonly bool Next = DateTime.Now.Ticks > 0;
                public override string Name => "api";
                public override string Version => Next ? "1.1.0" : "1.0.0";
            }
            """);
}

public sealed class PortValueFormsTests
{
    [Fact]
    public Task PortsThroughFieldsHelpersAndWith_Report() =>
        Task.WhenAll(
            Verify<PortOutOfRangeAnalyzer>.AnalyzerAsync("""
                public sealed class Api : ServerSpec
                {
                    private static readonly int Admin = 70000;
                    private static int Metrics => 0;
                    public override string Name => "api";
                    public override string Version => "1.0.0";
                    public override ImmutableArray<Port> Ports =>
                    [
                        Port.Tcp({|KILN0020:Admin|}),
                        Port.Udp({|KILN0020:Metrics|}),
                        Port.Tcp(8080) with { Number = {|KILN0020:-1|} },
                    ];
                }
                """),
            Verify<DuplicatePortAnalyzer>.AnalyzerAsync("""
                public sealed class Api : ServerSpec
                {
                    private static readonly int Http = 8080;
                    private static readonly ImmutableArray<Port> Web = [Port.Tcp(80)];
                    public override string Name => "api";
                    public override string Version => "1.0.0";
                    public override ImmutableArray<Port> Ports => [.. Web, Port.Tcp(Http), {|KILN0021:Port.Tcp(80)|}, {|KILN0021:new Port(Http)|}];
                }

                public sealed class Worker : ServerSpec
                {
                    public override string Name => "worker";
                    public override string Version => "1.0.0";
                    public override ImmutableArray<Port> Ports => ImmutableArray.Create(Port.Tcp(9000), {|KILN0021:Port.Tcp(9000) with { Name = "again" }|});
                }
                """),
            Verify<RemoteShellAccessAnalyzer>.AnalyzerAsync("""
                public sealed class Api : ServerSpec
                {
                    private static readonly int Ssh = 22;
                    private static readonly string[] Packages = ["curl", "openssh-server"];
                    public override string Name => "api";
                    public override string Version => "1.0.0";
                    public override BaseImage Base => BaseImage.Debian("bookworm", [.. {|KILN0024:Packages|}]);
                    public override ImmutableArray<Port> Ports => [{|KILN0024:Port.Tcp(Ssh)|}, {|KILN0024:Port.Tcp(2222) with { Number = 22 }|}];
                }
                """));

    [Fact]
    public Task PortsReplacedOrAlternative_DoNotReport() =>
        Task.WhenAll(
            Verify<PortOutOfRangeAnalyzer>.AnalyzerAsync("""
                public sealed class Api : ServerSpec
                {
                    public override string Name => "api";
                    public override string Version => "1.0.0";
                    public override ImmutableArray<Port> Ports => [Port.Tcp(0) with { Number = 8080 }];
                }
                """),
            Verify<DuplicatePortAnalyzer>.AnalyzerAsync("""
                public sealed class Api : ServerSpec
                {
                    private static readonly bool Debug = DateTime.Now.Ticks > 0;
                    public override string Name => "api";
                    public override string Version => "1.0.0";
                    public override ImmutableArray<Port> Ports => Debug ? [Port.Tcp(80), Port.Tcp(5000)] : [Port.Tcp(80)];
                }

                public sealed class Worker : ServerSpec
                {
                    public override string Name => "worker";
                    public override string Version => "1.0.0";
                    public override ImmutableArray<Port> Ports => [Port.Tcp(80), Port.Tcp(80) with { Number = 81 }];
                }
                """),
            Verify<RemoteShellAccessAnalyzer>.AnalyzerAsync("""
                public sealed class Api : ServerSpec
                {
                    public override string Name => "api";
                    public override string Version => "1.0.0";
                    public override ImmutableArray<Port> Ports => [Port.Tcp(22) with { Number = 2222 }, Port.Udp(22)];
                }
                """));
}

public sealed class PathValueFormsTests
{
    [Fact]
    public Task RelativePathsThroughFieldsHelpersAndWith_Report() =>
        Verify<RelativePathAnalyzer>.AnalyzerAsync("""
            public static class Paths
            {
                public static readonly string App = "app";
                public static ImmutableArray<string> Data => ["data", "/var/lib/api"];
            }

            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public override string WorkingDirectory => {|KILN0019:Paths.App|};
                public override ImmutableArray<string> Volumes => {|KILN0019:Paths.Data|};
                public override ImmutableArray<Layer> Layers =>
                [
                    Layer.File("a.json", {|KILN0019:$"{Paths.App}/a.json"|}),
                    Layer.File("b.json", "/app/b.json") with { To = {|KILN0019:"app/b.json"|} },
                ];
            }
            """);

    [Fact]
    public Task AbsoluteAfterWithOrUnknown_DoesNotReport() =>
        Verify<RelativePathAnalyzer>.AnalyzerAsync("""
            public sealed class Api : ServerSpec
            {
                private static string root = "app";
                public override string Name => "api";
                public override string Version => "1.0.0";
                public override string WorkingDirectory => root;
                public override ImmutableArray<Layer> Layers => [Layer.File("a.json", "app/a.json") with { To = "/app/a.json" }];
            }
            """);

    [Fact]
    public Task HostPathsThroughWrappers_Report() =>
        Verify<HostPathVolumeAnalyzer>.AnalyzerAsync("""
            public sealed class Api : ServerSpec
            {
                private static readonly string Socket = "/var/run/docker.sock";
                public override string Name => "api";
                public override string Version => "1.0.0";
                public override ImmutableArray<string> Volumes => new[] { {|KILN0011:Socket|}, "/var/lib/api", {|KILN0011:"/etc"|} }.ToImmutableArray();
            }
            """);
}

public sealed class SecurityValueFormsTests
{
    [Fact]
    public Task RootThroughConstantsAndWith_Reports() =>
        Verify<RootAccountAnalyzer>.AnalyzerAsync("""
            public sealed class Api : ServerSpec
            {
                private static readonly int RootUid = 0;
                public override string Name => "api";
                public override string Version => "1.0.0";
                public override Account Account => {|KILN0009:Account.NonRoot("app", RootUid)|};
            }

            public sealed class Worker : ServerSpec
            {
                public override string Name => "worker";
                public override string Version => "1.0.0";
                public override Account Account => {|KILN0009:Account.NonRoot("app", 10001) with { Uid = 0 }|};
            }
            """);

    [Fact]
    public Task RootReplacedByWith_DoesNotReport() =>
        Verify<RootAccountAnalyzer>.AnalyzerAsync("""
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public override Account Account => Account.Root with { Name = "app", Uid = 10001, Gid = 10001 };
            }
            """);

    [Fact]
    public Task EscalationThroughConstantsAndWith_Reports() =>
        Verify<PrivilegeEscalationAnalyzer>.AnalyzerAsync("""
            public sealed class Api : ServerSpec
            {
                private static readonly string Sudo = "/usr/bin/sudo";
                public override string Name => "api";
                public override string Version => "1.0.0";
                public override Entrypoint Entrypoint => {|KILN0010:new(Sudo, "/app/api")|};
                public override ImmutableArray<Layer> Layers => [Layer.File("tool", "/app/tool", {|KILN0010:FilePermissions.Executable with { Bits = 0xDED }|})];
            }
            """);

    [Fact]
    public Task SecretThroughField_Reports() =>
        Verify<SecretLiteralAnalyzer>.AnalyzerAsync("""
            public sealed class Api : ServerSpec
            {
                private static readonly string Password = "hunter22";
                public override string Name => "api";
                public override string Version => "1.0.0";
                public override ImmutableArray<EnvironmentVariable> Environment => [new("DB_PASSWORD", {|KILN0014:Password|}), new("DB_USER", Password), new("API_TOKEN", "")];
            }
            """);
}

public sealed class PinningValueFormsTests
{
    [Fact]
    public Task ReferencesAndSuitesThroughHelpers_Report() =>
        Task.WhenAll(
            Verify<MutableTagAnalyzer>.AnalyzerAsync("""
                public static class Images
                {
                    public static readonly string Nginx = "nginx:latest";
                    public static string Suite() => "stable";
                }

                public sealed class Api : ServerSpec
                {
                    public override string Name => "api";
                    public override string Version => "1.0.0";
                    public override BaseImage Base => BaseImage.Registry({|KILN0005:Images.Nginx|});
                    public BaseImage Other => BaseImage.Debian({|KILN0005:Images.Suite()|}, ["libc6"]);
                }
                """),
            Verify<BaseImageNotPinnedAnalyzer>.AnalyzerAsync("""
                public sealed class Api : ServerSpec
                {
                    private const string Registry = "ghcr.io/acme";
                    private static readonly string Tag = "1.2";
                    private const string Digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
                    public override string Name => "api";
                    public override string Version => "1.0.0";
                    public override BaseImage Base => BaseImage.Registry({|KILN0006:$"{Registry}/runtime:{Tag}"|});
                    public BaseImage Pinned => BaseImage.Registry($"{Registry}/runtime:{Tag}@{Digest}");
                }
                """),
            Verify<UnpinnedPackageAnalyzer>.AnalyzerAsync(
                """
                public sealed class Api : ServerSpec
                {
                    private static readonly ImmutableArray<string> Packages = ["libc6", "curl=7.88.1-10"];
                    public override string Name => "api";
                    public override string Version => "1.0.0";
                    public override BaseImage Base => BaseImage.Debian("bookworm", {|KILN0008:Packages|});
                }
                """,
                "kiln.require_package_pins = true"));
}

public sealed class EntrypointValueFormsTests
{
    [Fact]
    public Task ProvisioningThroughHelper_Reports() =>
        Verify<ProvisioningAtStartAnalyzer>.AnalyzerAsync("""
            public sealed class Api : ServerSpec
            {
                private static string Install(string package) => $"apt-get install -y {package} && exec /app/api";
                public override string Name => "api";
                public override string Version => "1.0.0";
                public override Entrypoint Entrypoint => {|KILN0017:Entrypoint.Shell(Install("curl"))|};
            }
            """);
}

public sealed class HelperValueFormsTests
{
    [Fact]
    public Task BaseFromHelpersOutsideSpecs_ReportsAtTheUse() =>
        Verify<MutableTagAnalyzer>.AnalyzerAsync("""
            public static class Bases
            {
                public static BaseImage Runtime => BaseImage.Registry("mcr.microsoft.com/dotnet/runtime-deps:latest");
                public static readonly BaseImage Debian = BaseImage.Debian("testing", ["libc6"]);
                public static BaseImage Pinned => BaseImage.Registry("nginx:latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
            }

            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public override BaseImage Base => {|KILN0005:Bases.Runtime|};
            }

            public sealed class Worker : ServerSpec
            {
                private static BaseImage Chosen => Bases.Debian;
                public override string Name => "worker";
                public override string Version => "1.0.0";
                public override BaseImage Base => {|KILN0005:Chosen|};
            }

            public sealed class Proxy : ServerSpec
            {
                public override string Name => "proxy";
                public override string Version => "1.0.0";
                public override BaseImage Base => Bases.Pinned;
            }
            """);

    [Fact]
    public Task AccountEntrypointPortsAndLayersFromHelpers_ReportAtTheUse() =>
        Task.WhenAll(
            Verify<RootAccountAnalyzer>.AnalyzerAsync("""
                public static class Accounts
                {
                    public static Account Admin => Account.Root;
                    public static Account Service => Account.NonRoot("svc", 10001);
                }

                public sealed class Api : ServerSpec
                {
                    public override string Name => "api";
                    public override string Version => "1.0.0";
                    public override Account Account => {|KILN0009:Accounts.Admin|};
                }

                public sealed class Worker : ServerSpec
                {
                    public override string Name => "worker";
                    public override string Version => "1.0.0";
                    public override Account Account => Accounts.Service;
                }
                """),
            Verify<ProvisioningAtStartAnalyzer>.AnalyzerAsync("""
                public static class Commands
                {
                    public static Entrypoint Start => Entrypoint.Shell("apt-get install -y curl && exec /app/api");
                }

                public sealed class Api : ServerSpec
                {
                    public override string Name => "api";
                    public override string Version => "1.0.0";
                    public override Entrypoint Entrypoint => {|KILN0017:Commands.Start|};
                }
                """),
            Verify<RemoteShellAccessAnalyzer>.AnalyzerAsync("""
                public static class Common
                {
                    public static Port Ssh => Port.Tcp(22);
                    public static Port Web => Port.Tcp(8080);
                }

                public sealed class Api : ServerSpec
                {
                    public override string Name => "api";
                    public override string Version => "1.0.0";
                    public override ImmutableArray<Port> Ports => [Common.Web, {|KILN0024:Common.Ssh|}];
                }
                """),
            Verify<RelativePathAnalyzer>.AnalyzerAsync("""
                public static class Files
                {
                    public static Layer Config => Layer.File("appsettings.json", "app/appsettings.json");
                    public static Layer Web => Layer.Directory("wwwroot", "/app/wwwroot");
                }

                public sealed class Api : ServerSpec
                {
                    public override string Name => "api";
                    public override string Version => "1.0.0";
                    public override ImmutableArray<Layer> Layers => [{|KILN0019:Files.Config|}, Files.Web];
                }
                """));
}

public sealed class DeclarationFormsTests
{
    [Fact]
    public Task AutoPropertyOverridesAndBaseRecords_Report() =>
        Task.WhenAll(
            Verify<VersionNotSemVerAnalyzer>.AnalyzerAsync("""
                public sealed class Api : ServerSpec
                {
                    public override string Name { get; } = "api";
                    public override string Version { get; } = {|KILN0023:"1.0"|};
                }

                // A constructor assigns it: the initializer is not its value.
                public sealed class Worker : ServerSpec
                {
                    public Worker() { Version = "2.0.0"; }
                    public override string Name { get; } = "worker";
                    public override string Version { get; } = "2.0";
                }
                """),
            Verify<MutableTagAnalyzer>.AnalyzerAsync("""
                public sealed class Api : ServerSpec
                {
                    public override string Name => "api";
                    public override string Version => "1.0.0";
                    public override BaseImage Base => new RegistryBase({|KILN0005:"nginx:latest"|}, null);
                    public BaseImage Changed => new RegistryBase("nginx:1.27", null) with { Reference = {|KILN0005:"nginx:stable"|} };
                    public BaseImage Fixed => new RegistryBase("nginx:latest", null) with { Reference = "nginx:1.27@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" };
                    public BaseImage Suite => new DebianBase({|KILN0005:"sid"|}, ["libc6"], "amd64");
                }
                """),
            Verify<DuplicatePortAnalyzer>.AnalyzerAsync("""
                public sealed class Api : ServerSpec
                {
                    public override string Name => "api";
                    public override string Version => "1.0.0";
                    public override ImmutableArray<Port> Ports => ImmutableArray<Port>.Empty.Add(Port.Tcp(80)).Add({|KILN0021:Port.Tcp(80)|});
                }

                public sealed class Worker : ServerSpec
                {
                    private static readonly Port[] Web = [Port.Tcp(8080)];
                    public override string Name => "worker";
                    public override string Version => "1.0.0";
                    public override ImmutableArray<Port> Ports => Web.Concat(new List<Port> { {|KILN0021:Port.Tcp(8080)|} }).ToImmutableArray();
                }

                // A collection type of the user's own may drop or merge what it is given: not read.
                public sealed class PortSet : List<Port>
                {
                    public PortSet(IEnumerable<Port> ports) : base(ports.Distinct()) { }
                }

                public sealed class Proxy : ServerSpec
                {
                    public override string Name => "proxy";
                    public override string Version => "1.0.0";
                    public override ImmutableArray<Port> Ports => [.. new PortSet([Port.Tcp(80), Port.Tcp(80)])];
                }
                """));
}
