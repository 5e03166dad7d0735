using Kiln.Analyzers.CodeFixes;
using Kiln.Analyzers.Rules;

namespace Kiln.Analyzers.Tests.Rules;

public sealed class RootAccountAnalyzerTests
{
    [Fact]
    public Task RootOrUidZeroOrNoAccount_Reports() =>
        Verify<RootAccountAnalyzer>.AnalyzerAsync("""
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public override Account Account => {|KILN0009:Account.Root|};
            }

            public sealed class Worker : ServerSpec
            {
                public override string Name => "worker";
                public override string Version => "1.0.0";
                public override Account Account => {|KILN0009:Account.NonRoot("admin", 0)|};
            }

            public sealed class Cron : ServerSpec
            {
                public override string Name => "cron";
                public override string Version => "1.0.0";
                public override Account Account => {|KILN0009:null|};
            }
            """);

    [Fact]
    public Task NonRootOrDefault_DoesNotReport() =>
        Verify<RootAccountAnalyzer>.AnalyzerAsync("""
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public override Account Account => Account.NonRoot("shop", 10001, gid: 0);
            }

            public sealed class Worker : ServerSpec
            {
                public override string Name => "worker";
                public override string Version => "1.0.0";
            }

            public static class Tools
            {
                public static Account Admin => Account.Root;
            }
            """);

    [Fact]
    public Task Root_Fix_UsesNonRootAccount() =>
        Verify<RootAccountAnalyzer>.CodeFixAsync<RootAccountCodeFix>(
            """
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public override Account Account => {|KILN0009:Account.Root|};
            }
            """,
            """
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public override Account Account => Account.NonRoot("app", 10001);
            }
            """);
}

public sealed class PrivilegeEscalationAnalyzerTests
{
    [Fact]
    public Task SetuidModeOrSudoOrPrivilegedSetting_Reports() =>
        Verify<PrivilegeEscalationAnalyzer>.AnalyzerAsync("""
            public sealed class Security
            {
                public bool Privileged { get; init; }
            }

            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public override ImmutableArray<Layer> Layers =>
                [
                    Layer.File("bin/tool", to: "/usr/bin/tool", mode: {|KILN0010:Kiln.Spec.FilePermissions.Octal("4755")|}),
                    Layer.File("bin/other", to: "/usr/bin/other", mode: {|KILN0010:new Kiln.Spec.FilePermissions(0xDED)|}),
                ];
                public override Entrypoint Entrypoint => {|KILN0010:new("/usr/bin/sudo", "-u", "app", "/app/server")|};
                public Security Context => new() { {|KILN0010:Privileged = true|} };
                public bool AllowPrivilegeEscalation => {|KILN0010:true|};
            }
            """);

    [Fact]
    public Task OrdinaryModesAndEntrypoint_DoNotReport() =>
        Verify<PrivilegeEscalationAnalyzer>.AnalyzerAsync("""
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public override ImmutableArray<Layer> Layers =>
                [
                    Layer.File("bin/tool", to: "/usr/bin/tool", mode: Kiln.Spec.FilePermissions.Octal("0755")),
                    Layer.File("bin/other", to: "/usr/bin/other", mode: Kiln.Spec.FilePermissions.Executable),
                ];
                public override Entrypoint Entrypoint => new("/app/server", "--user", "sudo");
                public bool AllowPrivilegeEscalation => false;
            }
            """);
}

public sealed class HostPathVolumeAnalyzerTests
{
    [Fact]
    public Task RuntimeSocketOrSystemPath_Reports() =>
        Verify<HostPathVolumeAnalyzer>.AnalyzerAsync("""
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public override ImmutableArray<string> Volumes => [{|KILN0011:"/var/run/docker.sock"|}, {|KILN0011:"/etc/nginx"|}, "/var/lib/api"];
            }
            """);

    [Fact]
    public Task DataVolumes_DoNotReport() =>
        Verify<HostPathVolumeAnalyzer>.AnalyzerAsync("""
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public override ImmutableArray<string> Volumes => ["/var/lib/api", "/tmp", "/run/api"];
                public ImmutableArray<string> NotVolumes => ["/var/run/docker.sock"];
            }
            """);
}

public sealed class SecretLiteralAnalyzerTests
{
    [Fact]
    public Task SecretLookingStrings_Report() =>
        Verify<SecretLiteralAnalyzer>.AnalyzerAsync("""
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public override ImmutableArray<EnvironmentVariable> Environment =>
                [
                    new("ConnectionStrings__Db", {|KILN0014:"Host=db;Username=app;Password=hunter2!"|}),
                    new("AWS_ACCESS_KEY_ID", {|KILN0014:"AKIAIOSFODNN7EXAMPLE"|}),
                    new("API_TOKEN", {|KILN0014:"abc123def456"|}),
                    new("UPSTREAM", {|KILN0014:"https://admin:s3cret@upstream.internal/"|}),
                ];
                private const string Key = {|KILN0014:"-----BEGIN RSA PRIVATE KEY-----\nMIIE..."|};
            }
            """);

    [Fact]
    public Task SecretReferencesAndPlaceholders_DoNotReport() =>
        Verify<SecretLiteralAnalyzer>.AnalyzerAsync("""
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public override ImmutableArray<EnvironmentVariable> Environment =>
                [
                    new("ConnectionStrings__Db", "Host=db;Username=app;Password=${DB_PASSWORD}"),
                    new("API_TOKEN_FILE", ""),
                    new("LOG_LEVEL", "Information"),
                ];
                public override ImmutableArray<SecretReference> Secrets => [new("db-password", EnvironmentVariable: "DB_PASSWORD")];
            }

            public static class NotASpec
            {
                public const string Fixture = "password=hunter2!";
            }
            """);
}

public sealed class RemoteShellAccessAnalyzerTests
{
    [Fact]
    public Task SshPortPackageOrDaemon_Reports() =>
        Verify<RemoteShellAccessAnalyzer>.AnalyzerAsync("""
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public override BaseImage Base => BaseImage.Debian("bookworm", ["libc6", {|KILN0024:"openssh-server"|}]);
                public override ImmutableArray<Port> Ports => [Port.Tcp(8080), {|KILN0024:Port.Tcp(22)|}];
                public override Entrypoint Entrypoint => {|KILN0024:new("/usr/sbin/sshd", "-D")|};
            }
            """);

    [Fact]
    public Task OtherPortsAndClients_DoNotReport() =>
        Verify<RemoteShellAccessAnalyzer>.AnalyzerAsync("""
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public override BaseImage Base => BaseImage.Debian("bookworm", ["libc6", "openssh-client"]);
                public override ImmutableArray<Port> Ports => [Port.Tcp(2222), Port.Udp(22)];
            }
            """);
}
