using Kiln.Analyzers.CodeFixes;
using Kiln.Analyzers.Rules;

namespace Kiln.Analyzers.Tests.Rules;

public sealed class NonDeterministicCallAnalyzerTests
{
    [Fact]
    public Task ClockRandomAndEnvironment_Report() =>
        Verify<NonDeterministicCallAnalyzer>.AnalyzerAsync("""
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0." + {|KILN0015:DateTime.UtcNow|}.Ticks;
                public override ImmutableArray<EnvironmentVariable> Environment =>
                [
                    new("INSTANCE", {|KILN0015:Guid.NewGuid()|}.ToString()),
                    new("HOST", {|KILN0015:System.Environment.MachineName|}),
                    new("SEED", {|KILN0015:new Random()|}.Next().ToString()),
                ];
            }
            """);

    [Fact]
    public Task FixedValuesAndNonSpecCode_DoNotReport() =>
        Verify<NonDeterministicCallAnalyzer>.AnalyzerAsync("""
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public override ImmutableArray<EnvironmentVariable> Environment =>
                [
                    new("EPOCH", new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks.ToString()),
                    new("ID", Guid.Parse("6f9619ff-8b86-d011-b42d-00cf4fc964ff").ToString()),
                ];
            }

            public static class Clock
            {
                public static DateTime Now => DateTime.UtcNow;
            }
            """);
}

public sealed class IoInSpecAnalyzerTests
{
    [Fact]
    public Task FileNetworkAndProcess_Report() =>
        Verify<IoInSpecAnalyzer>.AnalyzerAsync("""
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => {|KILN0016:File.ReadAllText("VERSION")|}.Trim();
                public string Remote => {|KILN0016:new System.Net.Http.HttpClient()|}.ToString()!;
                public int Pid => {|KILN0016:System.Diagnostics.Process.GetCurrentProcess()|}.Id;
                public string Temp => {|KILN0016:Path.GetTempPath()|};
            }
            """);

    // The analyzers read only the blocks of code whose tokens could name a forbidden API: these places and spellings must still pass.
    [Fact]
    public Task UsesInBlockBodiesInitializersAndAliases_Report() =>
        Verify<IoInSpecAnalyzer>.AnalyzerAsync("""
            using Disk = System.IO.File;

            public sealed class Api : ServerSpec
            {
                private static readonly string Seed = {|KILN0016:Disk.ReadAllText("SEED")|};

                public override string Name => "api";

                public override string Version
                {
                    get { return {|KILN0016:Disk.ReadAllText("VERSION")|}.Trim() + Seed; }
                }

                public override string WorkingDirectory => Host();

                private static string Host() => "/" + {|KILN0016:System.Net.Dns.GetHostName()|};
            }
            """);

    [Fact]
    public Task PathStringOperationsAndNonSpecCode_DoNotReport() =>
        Verify<IoInSpecAnalyzer>.AnalyzerAsync("""
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public override string WorkingDirectory => Path.Combine("/app", "data");
                public override ImmutableArray<Layer> Layers => [Layer.File("VERSION", to: "/app/VERSION")];
            }

            public static class Build
            {
                public static string Read() => File.ReadAllText("VERSION");
            }
            """);
}

public sealed class ProvisioningAtStartAnalyzerTests
{
    [Fact]
    public Task PackageManagerOrConfigToolAtStart_Reports() =>
        Verify<ProvisioningAtStartAnalyzer>.AnalyzerAsync("""
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public override Entrypoint Entrypoint => {|KILN0017:Entrypoint.Shell("apt-get update && apt-get install -y curl && exec /app/server")|};
                public Entrypoint Python => {|KILN0017:new("/usr/bin/python3", "-m", "pip", "install", "-r", "requirements.txt")|};
                public Entrypoint Chef => {|KILN0017:new("/opt/chef/bin/chef-client", "--once")|};
            }
            """);

    [Fact]
    public Task ServerOrQueryingTool_DoesNotReport() =>
        Verify<ProvisioningAtStartAnalyzer>.AnalyzerAsync("""
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public override Entrypoint Entrypoint => new("/app/server", "--install-dir", "/app");
                public Entrypoint Listing => new("/usr/bin/pip", "list");
                public override HealthCheck Health => HealthCheck.Command("/usr/bin/dpkg", "-l");
            }
            """);
}

public sealed class ShellFormEntrypointAnalyzerTests
{
    [Fact]
    public Task ShellForm_Reports() =>
        Verify<ShellFormEntrypointAnalyzer>.AnalyzerAsync("""
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public override Entrypoint Entrypoint => {|KILN0018:Entrypoint.Shell("/app/server --port $PORT")|};
                public Entrypoint Explicit => {|KILN0018:new("/bin/bash", "-c", "/app/server")|};
            }
            """);

    [Fact]
    public Task ExecForm_DoesNotReport() =>
        Verify<ShellFormEntrypointAnalyzer>.AnalyzerAsync("""
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public override Entrypoint Entrypoint => new("/app/server", "--port", "8080");
                public Entrypoint Script => new("/bin/sh", "/app/start.sh");
            }
            """);

    [Fact]
    public Task PlainShellCommand_Fix_UsesExecForm() =>
        Verify<ShellFormEntrypointAnalyzer>.CodeFixAsync<ShellFormEntrypointCodeFix>(
            """
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public override Entrypoint Entrypoint => {|KILN0018:Entrypoint.Shell("exec /app/server --port 8080")|};
            }
            """,
            """
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public override Entrypoint Entrypoint => new Entrypoint("/app/server", "--port", "8080");
            }
            """);

    [Fact]
    public Task ShellCommandWithExpansion_OffersNoFix() =>
        Verify<ShellFormEntrypointAnalyzer>.CodeFixAsync<ShellFormEntrypointCodeFix>(
            """
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public override Entrypoint Entrypoint => {|KILN0018:Entrypoint.Shell("/app/server --port $PORT")|};
            }
            """,
            """
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public override Entrypoint Entrypoint => {|KILN0018:Entrypoint.Shell("/app/server --port $PORT")|};
            }
            """);
}
