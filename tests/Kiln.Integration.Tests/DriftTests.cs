using System.Text.Json;
using System.Text.Json.Nodes;
using Kiln.Integration.Tests.Infrastructure;
using Xunit;

namespace Kiln.Integration.Tests;

/// <summary>
/// kiln verify end to end: an image built by Kiln, unpacked by umoci and run by runc, changed by hand inside the
/// running instance, and checked against its inventory. (The Shop sample's API image runs the same way once its
/// Debian package base exists; this uses a busybox base so that it needs no network.)
/// </summary>
[Collection(KilnCollection.Name)]
public sealed class DriftTests(KilnPackage package)
{
    private const string Spec = """
        public sealed class Drift : ServerSpec
        {
            public override string Name => "drift";
            public override string Version => "1.0.0";
            public override BaseImage Base => BaseImage.OciLayout("base", "busybox:static");
            public override ImmutableArray<Layer> Layers =>
            [
                Layer.File("run.sh", to: "/app/run.sh"),
                Layer.File("app.conf", to: "/app/app.conf"),
                Layer.File("removable.txt", to: "/app/removable.txt"),
            ];
            public override Account Account => Account.NonRoot("drift", 10001);
            public override Entrypoint Entrypoint => new("/app/run.sh");
            public override ImmutableArray<string> Volumes => ["/data"];
        }
        """;

    private FixtureProject Built(string busybox)
    {
        var fixture = new FixtureProject(package)
            .Write("run.sh", "#!/bin/sh\necho \"serving with $(cat /app/app.conf)\"\n")
            .Write("app.conf", "openFiles=65536\n")
            .Write("removable.txt", "remove me\n")
            .Specs(Spec);
        BusyboxLayout.Create(Path.Combine(fixture.Directory, "base"), busybox);
        fixture.BuildOk();
        return fixture;
    }

    private string Manifest(FixtureProject fixture) => Path.Combine(fixture.OutputDirectory, "manifests", "drift-1.0.0.json");

    private ProcessResult Verify(FixtureProject fixture, string root, params string[] extra) =>
        KilnCli.Run(package, fixture.Directory, ["verify", "--manifest", Manifest(fixture), "--root", root, .. extra]);

    [SkippableFact]
    public void Verify_RuncInstanceChangedByHand_ReportsExactlyTheThreeChangesWithExitCode7()
    {
        var busybox = Tools.Require("busybox", "busybox-static");
        var umoci = Tools.Require("umoci", "umoci");
        var runc = Tools.Require("runc", "runc");
        var fixture = Built(busybox);
        var bundle = Path.Combine(fixture.Directory, "bundle");
        var unpack = ProcessRunner.Run(umoci, ["unpack", "--image", $"{fixture.LayoutDirectory}:drift:1.0.0", bundle]);
        Assert.True(unpack.ExitCode == 0, unpack.Output);
        var rootfs = Path.Combine(bundle, "rootfs");

        var served = Run(runc, bundle, process => process["terminal"] = false);
        Assert.Contains("serving with openFiles=65536", served, StringComparison.Ordinal);

        var clean = Verify(fixture, rootfs, "--json");
        Assert.True(clean.ExitCode == 0, clean.Output);
        Assert.Empty(JsonDocument.Parse(clean.Output).RootElement.GetProperty("drift").EnumerateArray());

        // An operator's ad hoc change inside the running instance, as root: edit, add, delete; plus writes to /tmp
        // and the declared volume, which are the instance's own and not drift.
        Run(runc, bundle, process =>
        {
            process["terminal"] = false;
            process["user"] = new JsonObject { ["uid"] = 0, ["gid"] = 0 };
            process["args"] = new JsonArray("/bin/sh", "-c",
                "echo 'openFiles=1024' > /app/app.conf && echo added > /app/added.txt && /bin/busybox rm /app/removable.txt"
                + " && echo scratch > /tmp/scratch && /bin/busybox mkdir -p /data && echo x > /data/x && echo changed");
        });

        var drifted = Verify(fixture, rootfs, "--json");

        Assert.True(drifted.ExitCode == 7, drifted.Output);
        var drift = JsonDocument.Parse(drifted.Output).RootElement.GetProperty("drift").EnumerateArray()
            .Select(d => $"{d.GetProperty("path").GetString()} {d.GetProperty("kind").GetString()} {string.Join(',', d.GetProperty("changes").EnumerateArray().Select(c => c.GetString()))}")
            .ToList();
        Assert.Equal(["/app/added.txt added ", "/app/app.conf changed content", "/app/removable.txt removed "], drift);

        var table = Verify(fixture, rootfs);
        Assert.Equal(7, table.ExitCode);
        Assert.Contains("1 added, 1 removed, 1 changed", table.Output, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Verify_ModeAndOwnerChanged_ReportsWhatChangedWithExitCode4()
    {
        var busybox = Tools.Require("busybox", "busybox-static");
        var umoci = Tools.Require("umoci", "umoci");
        var fixture = Built(busybox);
        var bundle = Path.Combine(fixture.Directory, "bundle");
        Assert.Equal(0, ProcessRunner.Run(umoci, ["unpack", "--image", $"{fixture.LayoutDirectory}:drift:1.0.0", bundle]).ExitCode);
        var conf = Path.Combine(bundle, "rootfs", "app", "app.conf");
        File.SetUnixFileMode(conf, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead | UnixFileMode.OtherWrite);
        Assert.Equal(0, ProcessRunner.Run("chown", ["10001:10001", Path.Combine(bundle, "rootfs", "app", "run.sh")]).ExitCode);
        // A writable mount point (/tmp, which the base has) takes the mounted storage's owner and mode, as under
        // `kiln run` or an emptyDir: not drift.
        var tmp = Path.Combine(bundle, "rootfs", "tmp");
        Assert.True(Directory.Exists(tmp), "the base image has /tmp");
        Assert.Equal(0, ProcessRunner.Run("chown", ["10001:10001", tmp]).ExitCode);
        File.SetUnixFileMode(tmp, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var result = Verify(fixture, Path.Combine(bundle, "rootfs"), "--json");

        Assert.True(result.ExitCode == 4, result.Output);
        var drift = JsonDocument.Parse(result.Output).RootElement.GetProperty("drift").EnumerateArray()
            .Select(d => $"{d.GetProperty("path").GetString()} {string.Join(',', d.GetProperty("changes").EnumerateArray().Select(c => c.GetString()))}");
        Assert.Equal(["/app/app.conf mode", "/app/run.sh owner"], drift);
    }

    [SkippableFact]
    public void Verify_BadInputs_ClearErrorsWithExitCode16()
    {
        var busybox = Tools.Require("busybox", "busybox-static");
        var fixture = Built(busybox);
        var root = Path.Combine(fixture.Directory, "root");
        Directory.CreateDirectory(root);

        var notKiln = KilnCli.Run(package, fixture.Directory, "verify", "--manifest", Path.Combine(fixture.LayoutDirectory, "index.json"), "--root", root);
        Assert.Equal(16, notKiln.ExitCode);
        Assert.Contains("error KILN2070", notKiln.Output, StringComparison.Ordinal);

        var missingRoot = Verify(fixture, Path.Combine(fixture.Directory, "no-such-root"));
        Assert.Equal(16, missingRoot.ExitCode);
        Assert.Contains("error KILN2072", missingRoot.Output, StringComparison.Ordinal);

        var tampered = Path.Combine(fixture.Directory, "tampered.txt");
        File.WriteAllText(tampered, File.ReadAllText(Path.Combine(fixture.OutputDirectory, "inventory", "drift-1.0.0.txt")) + "/etc/passwd\tf\t0644\t0\t0\t1\t" + new string('0', 64) + "\t-\n");
        var mismatch = Verify(fixture, root, "--inventory", tampered);
        Assert.Equal(16, mismatch.ExitCode);
        Assert.Contains("error KILN2071", mismatch.Output, StringComparison.Ordinal);
    }

    /// <summary>Runs the bundle once with runc, its process edited first; returns the output.</summary>
    private static string Run(string runc, string bundle, Action<JsonNode> editProcess)
    {
        var configPath = Path.Combine(bundle, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(configPath))!;
        editProcess(config["process"]!);
        File.WriteAllText(configPath, config.ToJsonString());
        var id = "kiln-drift-" + Guid.NewGuid().ToString("N")[..12];
        try
        {
            var run = ProcessRunner.Run(runc, ["run", "--bundle", bundle, id], timeout: TimeSpan.FromMinutes(1));
            Assert.True(run.ExitCode == 0, run.Output);
            return run.Output;
        }
        finally
        {
            ProcessRunner.Run(runc, ["delete", "--force", id]);
        }
    }
}
