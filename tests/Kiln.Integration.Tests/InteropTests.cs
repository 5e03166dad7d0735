using System.Text.Json;
using System.Text.Json.Nodes;
using Kiln.Integration.Tests.Infrastructure;
using Xunit;

namespace Kiln.Integration.Tests;

/// <summary>Tools nobody here wrote read, unpack and run what Kiln produces.</summary>
[Collection(KilnCollection.Name)]
public sealed class InteropTests(KilnPackage package)
{
    [SkippableFact]
    public void OciImageTool_ValidatesEveryImageOfTheLayout()
    {
        var tool = Tools.Require("oci-image-tool", "oci-image-tool");
        var fixture = BuildTests.TwoServerFixture(package);
        fixture.BuildOk();

        var result = ProcessRunner.Run(tool, ["validate", "--type", "image", fixture.LayoutDirectory]);

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("Validation succeeded", result.Output, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Skopeo_InspectsEveryImageWithItsDigest()
    {
        var skopeo = Tools.Require("skopeo", "skopeo");
        var fixture = BuildTests.TwoServerFixture(package);
        fixture.BuildOk();

        foreach (var (reference, digest) in fixture.ReadRelease().Digests)
        {
            var result = ProcessRunner.Run(skopeo, ["inspect", $"oci:{fixture.LayoutDirectory}:{reference}"]);
            Assert.True(result.ExitCode == 0, result.Output);
            Assert.Equal(digest, JsonDocument.Parse(result.Output).RootElement.GetProperty("Digest").GetString());
        }
    }

    [SkippableFact]
    public void Umoci_UnpacksTheImageWithItsFilesModesAndOwners()
    {
        var umoci = Tools.Require("umoci", "umoci");
        var fixture = BuildTests.TwoServerFixture(package);
        fixture.BuildOk();
        var bundle = Path.Combine(fixture.Directory, "bundle");

        var result = ProcessRunner.Run(umoci, ["unpack", "--image", $"{fixture.LayoutDirectory}:fixture-api:1.2.3", bundle]);

        Assert.True(result.ExitCode == 0, result.Output);
        var script = Path.Combine(bundle, "rootfs", "app", "app.sh");
        Assert.Equal("#!/bin/sh\necho serving\n", File.ReadAllText(script));
        Assert.True(File.GetUnixFileMode(script).HasFlag(UnixFileMode.UserExecute));
        Assert.False(File.GetUnixFileMode(Path.Combine(bundle, "rootfs", "app", "settings.json")).HasFlag(UnixFileMode.UserExecute));
        Assert.True(File.Exists(Path.Combine(bundle, "rootfs", "srv", "www", "css", "site.css")));
    }

    [SkippableFact]
    public void Runc_RunsAnImageOnABusyboxBase_AndItsEntrypointPrints()
    {
        var busybox = Tools.Require("busybox", "busybox-static");
        var umoci = Tools.Require("umoci", "umoci");
        var runc = Tools.Require("runc", "runc");
        var fixture = new FixtureProject(package)
            .Write("hello.sh", "#!/bin/sh\necho \"hello from $(cat /etc/greeting) as $(id -u)\"\n")
            .Write("greeting", "kiln\n")
            .Specs("""
                public sealed class Hello : ServerSpec
                {
                    public override string Name => "hello";
                    public override string Version => "1.0.0";
                    public override BaseImage Base => BaseImage.OciLayout("base", "busybox:static");
                    public override ImmutableArray<Layer> Layers => [Layer.File("hello.sh", to: "/app/hello.sh"), Layer.File("greeting", to: "/etc/greeting")];
                    public override Account Account => Account.NonRoot("hello", 10001);
                    public override Entrypoint Entrypoint => new("/app/hello.sh");
                }
                """);
        BusyboxLayout.Create(Path.Combine(fixture.Directory, "base"), busybox);
        fixture.BuildOk();

        var bundle = Path.Combine(fixture.Directory, "bundle");
        var run = RuncOnce.Run(umoci, runc, $"{fixture.LayoutDirectory}:hello:1.0.0", bundle);

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Contains("hello from kiln as 10001", run.Output, StringComparison.Ordinal);
    }
}
