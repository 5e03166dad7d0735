using System.Diagnostics;
using System.Text;
using Kiln.Integration.Tests.Infrastructure;
using Xunit;

namespace Kiln.Integration.Tests;

/// <summary>
/// `kiln run` end to end: a busybox-based image built by Kiln, unpacked into a runtime bundle generated from its spec,
/// run by runc, health-checked, inspected from inside with `runc exec`, and stopped with SIGINT.
/// </summary>
/// <remarks>The sample's API becomes the subject once its Debian base is buildable here; until then a busybox fixture stands in.</remarks>
[Collection(KilnCollection.Name)]
public sealed class RunTests(KilnPackage package)
{
    private FixtureProject Fixture(string script, string health = "HealthCheck.Command(\"/bin/sh\", \"-c\", \"test -f /tmp/ready\") with { Interval = TimeSpan.FromSeconds(1), StartPeriod = TimeSpan.FromSeconds(1) }")
    {
        var busybox = Tools.Require("busybox", "busybox-static");
        Tools.Require("umoci", "umoci");
        Tools.Require("runc", "runc");
        var fixture = new FixtureProject(package)
            .Write("start.sh", script)
            .Specs($$"""
                public sealed class Hello : ServerSpec
                {
                    public override string Name => "hello";
                    public override string Version => "1.0.0";
                    public override BaseImage Base => BaseImage.OciLayout("base", "busybox:static");
                    public override ImmutableArray<Layer> Layers => [Layer.File("start.sh", to: "/app/start.sh")];
                    public override Account Account => Account.NonRoot("hello", 10001);
                    public override Entrypoint Entrypoint => new("/app/start.sh");
                    public override ImmutableArray<string> Volumes => ["/tmp"];
                    public override Limits Limits => new() { OpenFiles = 4242, Processes = 321 };
                    public override HealthCheck Health => {{health}};
                }
                """);
        BusyboxLayout.Create(Path.Combine(fixture.Directory, "base"), busybox);
        fixture.BuildOk();
        return fixture;
    }

    private static string Engine(KilnPackage package) =>
        Directory.EnumerateFiles(Path.Combine(package.Packages, "kiln.build"), "kiln.dll", SearchOption.AllDirectories)
            .First(f => f.Replace('\\', '/').Contains("/tools/engine/", StringComparison.Ordinal));

    [SkippableFact]
    public void Run_BusyboxServer_HealthyWithDeclaredLimitsReadOnlyRootAndCleanStop()
    {
        var fixture = Fixture("#!/bin/sh\ntrap 'echo stopping; exit 0' TERM\ntouch /tmp/ready\necho started as $(id -u)\nwhile true; do sleep 1; done\n");
        var id = "kiln-run-" + Guid.NewGuid().ToString("N")[..10];
        using var kiln = ProcessRunner.Start("dotnet", ["exec", Engine(package), "run", "hello:1.0.0", "--layout", fixture.LayoutDirectory, "--name", id, "--stop-timeout", "20"], fixture.Directory, null, out var output);
        try
        {
            Assert.True(WaitFor(output, "is healthy", kiln), "kiln run did not report a healthy instance:\n" + Text(output));

            var limits = ProcessRunner.Run("runc", ["exec", id, "cat", "/proc/1/limits"]);
            Assert.True(limits.ExitCode == 0, limits.Output);
            Assert.Matches(@"Max open files\s+4242\s+4242", limits.Output);
            Assert.Matches(@"Max processes\s+321\s+321", limits.Output);

            var outside = ProcessRunner.Run("runc", ["exec", "--user", "10001:10001", id, "/bin/sh", "-c", "echo x > /app/written"]);
            Assert.True(outside.ExitCode != 0, "writing outside the declared volumes must fail:\n" + outside.Output);
            Assert.Contains("Read-only file system", outside.Output, StringComparison.Ordinal);

            var inside = ProcessRunner.Run("runc", ["exec", "--user", "10001:10001", id, "/bin/sh", "-c", "echo x > /tmp/written && cat /tmp/written"]);
            Assert.True(inside.ExitCode == 0, "the declared volume must be writable:\n" + inside.Output);

            Assert.Contains("started as 10001", Text(output), StringComparison.Ordinal);

            // Ctrl-C: the instance gets SIGTERM, its trap runs, and kiln deletes the container.
            Assert.Equal(0, ProcessRunner.Run("kill", ["-INT", kiln.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]).ExitCode);
            Assert.True(kiln.WaitForExit(TimeSpan.FromMinutes(1)), "kiln run did not stop after SIGINT:\n" + Text(output));
            kiln.WaitForExit();
            Assert.True(kiln.ExitCode == 0, Text(output));
            Assert.Contains("stopping", Text(output), StringComparison.Ordinal);
            Assert.Contains($"{id} stopped", Text(output), StringComparison.Ordinal);
            Assert.True(ProcessRunner.Run("runc", ["state", id]).ExitCode != 0, "the container must be deleted after the stop");
        }
        finally
        {
            if (!kiln.HasExited)
            {
                kiln.Kill(entireProcessTree: true);
            }

            ProcessRunner.Run("runc", ["delete", "--force", id]);
        }
    }

    [SkippableFact]
    public void Run_HttpHealthCheck_PassesThroughTheHostLoopback()
    {
        // busybox httpd on 127.0.0.1 inside the instance, which shares the host's network namespace (as a pod shares its own).
        var port = Random.Shared.Next(20_000, 40_000);
        var fixture = Fixture(
            $"#!/bin/sh\n/bin/busybox mkdir -p /tmp/www\necho ok > /tmp/www/healthz\n/bin/busybox httpd -f -p 127.0.0.1:{port} -h /tmp/www &\ntrap 'kill $!; exit 0' TERM\nwhile true; do sleep 1; done\n",
            health: $"HealthCheck.Http({port}, \"/healthz\") with {{ Interval = TimeSpan.FromSeconds(1), StartPeriod = TimeSpan.FromSeconds(1) }}");
        var id = "kiln-run-" + Guid.NewGuid().ToString("N")[..10];
        using var kiln = ProcessRunner.Start("dotnet", ["exec", Engine(package), "run", "hello:1.0.0", "--layout", fixture.LayoutDirectory, "--name", id, "--stop-timeout", "20"], fixture.Directory, null, out var output);
        try
        {
            Assert.True(WaitFor(output, "is healthy", kiln), "kiln run did not report a healthy instance:\n" + Text(output));
            using var client = new HttpClient();
            Assert.Equal("ok\n", client.GetStringAsync(new Uri($"http://127.0.0.1:{port}/healthz")).GetAwaiter().GetResult());

            Assert.Equal(0, ProcessRunner.Run("kill", ["-TERM", kiln.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]).ExitCode);
            Assert.True(kiln.WaitForExit(TimeSpan.FromMinutes(1)), "kiln run did not stop after SIGTERM:\n" + Text(output));
            kiln.WaitForExit();
            Assert.True(kiln.ExitCode == 0, Text(output));
            Assert.Contains($"{id} stopped", Text(output), StringComparison.Ordinal);
        }
        finally
        {
            if (!kiln.HasExited)
            {
                kiln.Kill(entireProcessTree: true);
            }

            ProcessRunner.Run("runc", ["delete", "--force", id]);
        }
    }

    [SkippableFact]
    public void Run_ServerIgnoringSigterm_IsKilledAfterTheGracePeriodAndDeleted()
    {
        var fixture = Fixture("#!/bin/sh\ntrap '' TERM\ntouch /tmp/ready\nwhile true; do sleep 1; done\n");
        var id = "kiln-run-" + Guid.NewGuid().ToString("N")[..10];
        using var kiln = ProcessRunner.Start("dotnet", ["exec", Engine(package), "run", "hello:1.0.0", "--layout", fixture.LayoutDirectory, "--name", id, "--stop-timeout", "2"], fixture.Directory, null, out var output);
        try
        {
            Assert.True(WaitFor(output, "is healthy", kiln), "kiln run did not report a healthy instance:\n" + Text(output));

            Assert.Equal(0, ProcessRunner.Run("kill", ["-INT", kiln.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]).ExitCode);
            Assert.True(kiln.WaitForExit(TimeSpan.FromMinutes(1)), "kiln run did not stop after SIGINT:\n" + Text(output));
            kiln.WaitForExit();
            Assert.True(kiln.ExitCode == 0, Text(output));
            Assert.Contains($"{id} killed after 2 s", Text(output), StringComparison.Ordinal);
            Assert.True(ProcessRunner.Run("runc", ["state", id]).ExitCode != 0, "the container must be deleted after the kill");
        }
        finally
        {
            if (!kiln.HasExited)
            {
                kiln.Kill(entireProcessTree: true);
            }

            ProcessRunner.Run("runc", ["delete", "--force", id]);
        }
    }

    [SkippableFact]
    public void Run_ServerThatExitsBeforeHealthy_ReportsKiln3023()
    {
        var fixture = Fixture("#!/bin/sh\necho giving up\nexit 3\n");

        var result = KilnCli.Run(package, fixture.Directory, "run", "hello:1.0.0", "--layout", fixture.LayoutDirectory);

        Assert.Equal(16, result.ExitCode); // ExitCodes.Failed: a coded failure
        Assert.Contains("error KILN3023:", result.Output, StringComparison.Ordinal);
        Assert.Contains("giving up", result.Output, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Run_HealthCheckNeverPasses_ReportsKiln3024AndRemovesTheContainer()
    {
        var fixture = Fixture("#!/bin/sh\ntrap 'exit 0' TERM\nwhile true; do sleep 1; done\n", health: "HealthCheck.Command(\"/bin/sh\", \"-c\", \"test -f /tmp/never\")");
        var id = "kiln-run-" + Guid.NewGuid().ToString("N")[..10];

        var result = KilnCli.Run(package, fixture.Directory, "run", "hello:1.0.0", "--layout", fixture.LayoutDirectory, "--name", id, "--timeout", "3", "--stop-timeout", "20");

        Assert.Equal(16, result.ExitCode); // ExitCodes.Failed: a coded failure
        Assert.Contains("error KILN3024:", result.Output, StringComparison.Ordinal);
        Assert.True(ProcessRunner.Run("runc", ["state", id]).ExitCode != 0, "a failed run must not leave its container behind:\n" + result.Output);
    }

    [Fact]
    public void Run_ImageNotInLayout_ReportsKiln3021()
    {
        var fixture = new FixtureProject(package).Write("app.sh", "#!/bin/sh\n").Specs("""
            public sealed class App : ServerSpec
            {
                public override string Name => "app";
                public override string Version => "1.0.0";
                public override ImmutableArray<Layer> Layers => [Layer.File("app.sh", to: "/app.sh")];
            }
            """);
        fixture.BuildOk();

        var result = KilnCli.Run(package, fixture.Directory, "run", "nope:1.0.0", "--layout", fixture.LayoutDirectory, "--umoci", "/bin/true", "--runc", "/bin/true");

        Assert.Equal(16, result.ExitCode); // ExitCodes.Failed: a coded failure
        Assert.Contains("error KILN3021:", result.Output, StringComparison.Ordinal);
    }

    private static bool WaitFor(StringBuilder output, string text, Process process)
    {
        // A generous limit for a slow, shared machine; the test asserts behaviour, never duration.
        for (var i = 0; i < 600 && !process.HasExited; i++)
        {
            if (Text(output).Contains(text, StringComparison.Ordinal))
            {
                return true;
            }

            Thread.Sleep(200);
        }

        return Text(output).Contains(text, StringComparison.Ordinal);
    }

    private static string Text(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }
}
