using System.Runtime.InteropServices;
using Kiln.Engine.Diagnostics;
using Kiln.Engine.Run;
using Kiln.Oci;

namespace Kiln.Engine.Tests.Run;

/// <summary>
/// How kiln run treats a platform the machine cannot run natively: refused with a coded error unless --emulate, then
/// through a binfmt_misc handler that works in containers (F flag), else by putting qemu-aarch64-static in front of the
/// entrypoint. The binfmt_misc entries are real kernel text, written to a temp directory.
/// </summary>
public sealed class EmulationTests : IDisposable
{
    private static readonly Platform Amd64 = new("amd64", "linux");
    private static readonly Platform Arm64 = new("arm64", "linux");

    // /proc/sys/fs/binfmt_misc/qemu-aarch64 as Debian's qemu-user-static with binfmt-support registers it.
    private const string Arm64Entry = """
        enabled
        interpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P
        flags: POCF
        offset 0
        magic 7f454c460201010000000000000000000200b700
        mask ffffffffffffff00fffffffffffffffffeffffff

        """;

    private readonly string _binfmt = Directory.CreateTempSubdirectory("kiln-binfmt-").FullName;

    public void Dispose() => Directory.Delete(_binfmt, recursive: true);

    [Theory]
    [InlineData("linux/arm64", "linux", "arm64", null)]
    [InlineData("linux/arm/v7", "linux", "arm", "v7")]
    public void Parse_OsArch_Platform(string text, string os, string architecture, string? variant)
    {
        var platform = ImagePlatforms.Parse(text);

        Assert.Equal(new Platform(architecture, os) { Variant = variant }, platform);
        Assert.Equal(text, platform.ToString());
    }

    [Theory]
    [InlineData("arm64")]
    [InlineData("linux/")]
    [InlineData("linux arm64")]
    [InlineData("linux/arm/v7/x")]
    public void Parse_NotOsArch_Kiln5043(string text)
    {
        var e = Assert.Throws<KilnException>(() => ImagePlatforms.Parse(text));

        Assert.Equal(DiagnosticCodes.PlatformInvalid, e.Diagnostics[0].Code);
        Assert.Contains("--platform linux/amd64", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Host_X64AndArm64_LinuxAmd64AndLinuxArm64()
    {
        Assert.Equal(Amd64, ImagePlatforms.Host(Architecture.X64));
        Assert.Equal(Arm64, ImagePlatforms.Host(Architecture.Arm64));
    }

    [Fact]
    public void Decide_SamePlatform_Native()
    {
        Assert.Equal(EmulationKind.Native, RunEmulation.Decide(Amd64, Amd64, "hello:1.0.0", [Amd64, Arm64], emulate: false, qemu: null, binfmt: null).Kind);
    }

    [Fact]
    public void Decide_Arm64OnAmd64WithoutEmulate_Kiln5040NamingPlatformAndBothWaysOut()
    {
        var e = Assert.Throws<KilnException>(() => RunEmulation.Decide(Arm64, Amd64, "hello:1.0.0", [Amd64, Arm64], emulate: false, qemu: "/usr/bin/qemu-aarch64-static", binfmt: null));

        Assert.Equal(DiagnosticCodes.PlatformNotRunnable, e.Diagnostics[0].Code);
        Assert.Contains("linux/arm64", e.Message, StringComparison.Ordinal);
        Assert.Contains("--platform linux/amd64", e.Message, StringComparison.Ordinal);
        Assert.Contains("--emulate", e.Message, StringComparison.Ordinal);
        Assert.Contains("no binfmt_misc handler for aarch64", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decide_EmulateWithQemuAndNoBinfmt_QemuInFrontOfEntrypointAndCommandHealthCheck()
    {
        var emulation = RunEmulation.Decide(Arm64, Amd64, "hello:1.0.0", [Arm64], emulate: true, qemu: "/usr/bin/qemu-aarch64-static", binfmt: BinfmtHandler.FindArm64(_binfmt));

        var spec = emulation.Apply(Spec());

        Assert.Equal(EmulationKind.QemuUser, emulation.Kind);
        Assert.Equal([RunEmulation.ContainerPath, "/app/hello", "serve"], spec.Args.ToArray());
        Assert.Equal([RunEmulation.ContainerPath, "/app/hello", "check"], spec.Health!.Command.ToArray());
        Assert.Equal("/usr/bin/qemu-aarch64-static", spec.Emulator);
    }

    [Fact]
    public void Decide_EmulateWithFixedBinfmtHandler_KernelRunsProgramsUnchanged()
    {
        File.WriteAllText(Path.Combine(_binfmt, "status"), "enabled\n");
        File.WriteAllText(Path.Combine(_binfmt, "qemu-aarch64"), Arm64Entry);

        var emulation = RunEmulation.Decide(Arm64, Amd64, "hello:1.0.0", [Arm64], emulate: true, qemu: null, binfmt: BinfmtHandler.FindArm64(_binfmt));

        Assert.Equal(EmulationKind.Binfmt, emulation.Kind);
        Assert.Equal("qemu-aarch64", emulation.Binfmt!.Name);
        var spec = emulation.Apply(Spec());
        Assert.Equal(["/app/hello", "serve"], spec.Args.ToArray());
        Assert.Null(spec.Emulator);
    }

    [Fact]
    public void FindArm64_HandlerWithoutFixBinaryFlag_FoundButNotUsableInContainers()
    {
        File.WriteAllText(Path.Combine(_binfmt, "qemu-aarch64"), Arm64Entry.Replace("flags: POCF", "flags: OC", StringComparison.Ordinal));
        File.WriteAllText(Path.Combine(_binfmt, "python3.11"), "enabled\ninterpreter /usr/bin/python3.11\nflags: \noffset 0\nmagic a70d0d0a\n");

        var handler = BinfmtHandler.FindArm64(_binfmt);

        Assert.NotNull(handler);
        Assert.False(handler.WorksInContainers);
        var e = Assert.Throws<KilnException>(() => RunEmulation.Decide(Arm64, Amd64, "hello:1.0.0", [Arm64], emulate: false, qemu: "/usr/bin/qemu-aarch64-static", binfmt: handler));
        Assert.Contains("lacks the F flag", e.Message, StringComparison.Ordinal);
        Assert.Contains("build the spec for linux/amd64", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FindArm64_BinfmtMiscNotMounted_Null()
    {
        Assert.Null(BinfmtHandler.FindArm64(Path.Combine(_binfmt, "not-mounted")));
        Assert.Null(BinfmtHandler.FindArm64(_binfmt));
    }

    [Fact]
    public void Decide_EmulateWithoutQemuOrBinfmt_Kiln5041SaysWhatToInstall()
    {
        var e = Assert.Throws<KilnException>(() => RunEmulation.Decide(Arm64, Amd64, "hello:1.0.0", [Amd64, Arm64], emulate: true, qemu: null, binfmt: null));

        Assert.Equal(DiagnosticCodes.EmulatorNotAvailable, e.Diagnostics[0].Code);
        Assert.Contains("apt-get install qemu-user-static", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decide_EmulateAnotherPair_Kiln5041()
    {
        var e = Assert.Throws<KilnException>(() => RunEmulation.Decide(new Platform("s390x", "linux"), Amd64, "hello:1.0.0", [Amd64], emulate: true, qemu: "/usr/bin/qemu-aarch64-static", binfmt: null));

        Assert.Equal(DiagnosticCodes.EmulatorNotAvailable, e.Diagnostics[0].Code);
        Assert.Contains("only linux/arm64 on linux/amd64", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RuntimeConfig_Emulated_BindMountsEmulatorReadOnly()
    {
        var spec = RunEmulation.Decide(Arm64, Amd64, "hello:1.0.0", [Arm64], emulate: true, qemu: "/usr/bin/qemu-aarch64-static", binfmt: null).Apply(Spec());

        var config = System.Text.Json.Nodes.JsonNode.Parse(RuntimeConfig.Create(spec))!;

        var mount = config["mounts"]!.AsArray().Single(m => (string?)m!["destination"] == RunEmulation.ContainerPath)!;
        Assert.Equal("/usr/bin/qemu-aarch64-static", (string?)mount["source"]);
        Assert.Contains("ro", mount["options"]!.AsArray().Select(o => (string?)o));
        Assert.Equal(RunEmulation.ContainerPath, (string?)config["process"]!["args"]![0]);
    }

    private static RunSpec Spec() => new()
    {
        Reference = "hello:1.0.0",
        Name = "hello",
        Uid = 10001,
        Gid = 10001,
        Args = ["/app/hello", "serve"],
        Environment = [],
        WorkingDirectory = "/app",
        Volumes = [],
        Health = new RunHealthCheck(["/app/hello", "check"], 0, null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), TimeSpan.Zero, 3),
    };
}
