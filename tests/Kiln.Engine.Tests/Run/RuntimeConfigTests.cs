using System.Text.Json.Nodes;
using Kiln.Engine.Run;

namespace Kiln.Engine.Tests.Run;

/// <summary>The runtime bundle's config.json applies what the spec declared, and nothing from the host.</summary>
public sealed class RuntimeConfigTests
{
    private static RunSpec Spec() => new()
    {
        Reference = "hello:1.0.0",
        Name = "hello",
        Uid = 10001,
        Gid = 10002,
        Args = ["/app/start.sh", "--flag"],
        Environment = ["PATH=/bin", "MODE=on"],
        WorkingDirectory = "/app",
        OpenFiles = 4242,
        Processes = 321,
        Volumes = ["/tmp", "/var/cache/hello"],
    };

    [Fact]
    public void Create_Spec_AppliesUserReadOnlyRootLimitsVolumesAndNoPrivileges()
    {
        var config = JsonNode.Parse(RuntimeConfig.Create(Spec()))!;

        var process = config["process"]!;
        Assert.Equal(10001, (int)process["user"]!["uid"]!);
        Assert.Equal(10002, (int)process["user"]!["gid"]!);
        Assert.Equal(["/app/start.sh", "--flag"], process["args"]!.AsArray().Select(a => (string)a!));
        Assert.Equal(["PATH=/bin", "MODE=on"], process["env"]!.AsArray().Select(a => (string)a!));
        Assert.Equal("/app", (string)process["cwd"]!);
        Assert.True((bool)process["noNewPrivileges"]!);
        Assert.Empty(process["capabilities"]!["bounding"]!.AsArray());
        var limits = process["rlimits"]!.AsArray().ToDictionary(r => (string)r!["type"]!, r => ((long)r!["soft"]!, (long)r!["hard"]!));
        Assert.Equal((4242L, 4242L), limits["RLIMIT_NOFILE"]);
        Assert.Equal((321L, 321L), limits["RLIMIT_NPROC"]);

        Assert.True((bool)config["root"]!["readonly"]!);
        var tmpfs = config["mounts"]!.AsArray().Where(m => (string)m!["type"]! == "tmpfs").Select(m => (string)m!["destination"]!).ToList();
        Assert.Contains("/tmp", tmpfs);
        Assert.Contains("/var/cache/hello", tmpfs);
        var volume = config["mounts"]!.AsArray().Single(m => (string)m!["destination"]! == "/var/cache/hello")!;
        Assert.Contains("uid=10001", volume["options"]!.AsArray().Select(o => (string)o!));

        // The host's network namespace: a server on 127.0.0.1 is reachable for its health check.
        Assert.DoesNotContain("network", config["linux"]!["namespaces"]!.AsArray().Select(n => (string)n!["type"]!));
    }

    [Fact]
    public void Create_NoDeclaredLimits_UsesRuncDefaultOpenFilesAndNoProcessLimit()
    {
        var config = JsonNode.Parse(RuntimeConfig.Create(Spec() with { OpenFiles = null, Processes = null }))!;

        var limit = Assert.Single(config["process"]!["rlimits"]!.AsArray())!;
        Assert.Equal("RLIMIT_NOFILE", (string)limit["type"]!);
        Assert.Equal(RuntimeConfig.DefaultOpenFiles, (int)limit["hard"]!);
    }

    [Fact]
    public void Create_SameSpecTwice_IsByteIdentical()
    {
        Assert.Equal(RuntimeConfig.Create(Spec()), RuntimeConfig.Create(Spec()));
    }

    [Fact]
    public void Deadline_HealthCheck_IsStartPeriodPlusEveryAllowedFailure()
    {
        var health = new RunHealthCheck(["true"], 0, null, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(5), 3);

        Assert.Equal(TimeSpan.FromSeconds(5 + (3 * 13)), health.Deadline);
    }
}
