using System.Collections.Immutable;
using Kiln.Engine.Diagnostics;
using Kiln.Oci;

namespace Kiln.Engine.Run;

/// <summary>How an image of another architecture runs here.</summary>
public enum EmulationKind
{
    /// <summary>The machine runs the image's programs itself.</summary>
    Native,

    /// <summary>
    /// The kernel runs them: a binfmt_misc handler for the architecture is registered with the F (fix binary) flag, so
    /// its emulator was opened at registration and works inside the container's root too, for every program it starts.
    /// </summary>
    Binfmt,

    /// <summary>
    /// qemu-user runs the entrypoint (and command health checks): the host's static emulator is bind-mounted read-only
    /// into the container and put in front of the program. Programs that the server itself starts cannot run (no
    /// binfmt_misc handler to send them to qemu).
    /// </summary>
    QemuUser,
}

/// <summary>What a binfmt_misc entry registers (<c>/proc/sys/fs/binfmt_misc/NAME</c>).</summary>
/// <param name="Name">The entry's name (qemu-aarch64 on Debian).</param>
/// <param name="Enabled">Whether the entry is enabled.</param>
/// <param name="Interpreter">The emulator it runs.</param>
/// <param name="Flags">Its flags (F: the interpreter was opened at registration, so it works in any mount namespace).</param>
public sealed record BinfmtHandler(string Name, bool Enabled, string Interpreter, string Flags)
{
    /// <summary>Whether programs in a container's root run through it (enabled, and the interpreter fixed at registration).</summary>
    public bool WorksInContainers => Enabled && Flags.Contains('F', StringComparison.Ordinal);

    /// <summary>The aarch64 handler among the entries of <paramref name="binfmtDirectory"/>, or null (none, or binfmt_misc not mounted).</summary>
    public static BinfmtHandler? FindArm64(string binfmtDirectory)
    {
        if (!Directory.Exists(binfmtDirectory))
        {
            return null;
        }

        try
        {
            foreach (var file in Directory.EnumerateFiles(binfmtDirectory).Order(StringComparer.Ordinal))
            {
                var name = Path.GetFileName(file);
                if (name is "register" or "status")
                {
                    continue;
                }

                if (Parse(name, File.ReadAllLines(file)) is { } handler && IsArm64Magic(handler.Magic))
                {
                    return handler.Handler;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // An unreadable binfmt_misc is one without a usable handler.
        }

        return null;
    }

    private static (BinfmtHandler Handler, string Magic)? Parse(string name, string[] lines)
    {
        string Value(string key) => lines.FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal))?[key.Length..].Trim() ?? "";
        var magic = Value("magic ");
        return magic.Length == 0 ? null : (new BinfmtHandler(name, lines.Contains("enabled"), Value("interpreter "), Value("flags:")), magic);
    }

    // An ELF64 little-endian header (7f 45 4c 46 02 01) whose e_machine (bytes 18–19) is EM_AARCH64 (0xb7).
    private static bool IsArm64Magic(string magic) =>
        magic.Length >= 40 && magic.StartsWith("7f454c460201", StringComparison.OrdinalIgnoreCase) && magic.Substring(36, 4).Equals("b700", StringComparison.OrdinalIgnoreCase);
}

/// <summary>How one platform's image runs on this machine: natively, or emulated (<see cref="EmulationKind"/>).</summary>
/// <param name="Kind">Native, through binfmt_misc, or through qemu-user.</param>
/// <param name="Emulator">The host path of the qemu-user emulator (<see cref="EmulationKind.QemuUser"/> only).</param>
/// <param name="Binfmt">The aarch64 binfmt_misc handler the machine has, if any.</param>
public sealed record RunEmulation(EmulationKind Kind, string? Emulator, BinfmtHandler? Binfmt)
{
    /// <summary>qemu-user's static aarch64 emulator (Debian's qemu-user-static), which runs inside any root.</summary>
    public const string QemuArm64 = "qemu-aarch64-static";

    /// <summary>Where the emulator is bind-mounted in the container (outside every path an image uses).</summary>
    public const string ContainerPath = "/.kiln/" + QemuArm64;

    /// <summary>Running natively.</summary>
    public static RunEmulation Native { get; } = new(EmulationKind.Native, null, null);

    /// <summary>
    /// Decides how <paramref name="image"/> runs on a <paramref name="host"/> machine. Only linux/arm64 on linux/amd64 is
    /// emulated, and only when asked (<paramref name="emulate"/>): emulation is slow and incomplete, never a silent default.
    /// </summary>
    /// <param name="display">How the user named the image, for messages.</param>
    /// <param name="available">Every platform the image has (to suggest the machine's own).</param>
    /// <param name="qemu">The host path of qemu-aarch64-static, or null when it is not installed.</param>
    /// <param name="binfmt">The machine's aarch64 binfmt_misc handler, or null.</param>
    /// <exception cref="KilnException">KILN5040 when the image cannot run natively and emulation was not asked for;
    /// KILN5041 when it was but is not possible here.</exception>
    public static RunEmulation Decide(Platform image, Platform host, string display, ImmutableArray<Platform> available, bool emulate, string? qemu, BinfmtHandler? binfmt)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(host);
        if (image.Os == host.Os && image.Architecture == host.Architecture)
        {
            return Native;
        }

        var arm64OnAmd64 = image is { Os: "linux", Architecture: "arm64" } && host is { Os: "linux", Architecture: "amd64" };
        var hostImage = available.Any(p => ImagePlatforms.Matches(p, host))
            ? $"pass --platform {host} to run this image's {host} build"
            : $"build the spec for {host} too (its Platforms) and pass --platform {host}";
        if (!emulate)
        {
            var emulation = !arm64OnAmd64
                ? ""
                : binfmt is { WorksInContainers: true }
                    ? $", or pass --emulate (this machine has a binfmt_misc handler for aarch64, '{binfmt.Name}', which runs it through {binfmt.Interpreter})"
                    : qemu is not null
                        ? $", or pass --emulate to run it under {QemuArm64}{BinfmtNote(binfmt)}"
                        : $", or install qemu-user-static (apt-get install qemu-user-static) and pass --emulate";
            throw new KilnException(DiagnosticCodes.PlatformNotRunnable, $"'{display}' is a {image} image, which this {host} machine cannot run natively: {hostImage}{emulation}.");
        }

        if (!arm64OnAmd64)
        {
            throw new KilnException(DiagnosticCodes.EmulatorNotAvailable, $"'{display}' is a {image} image and this machine is {host}: kiln run emulates only linux/arm64 on linux/amd64 machines. Instead, {hostImage}.");
        }

        if (binfmt is { WorksInContainers: true })
        {
            return new RunEmulation(EmulationKind.Binfmt, null, binfmt);
        }

        return qemu is not null
            ? new RunEmulation(EmulationKind.QemuUser, qemu, binfmt)
            : throw new KilnException(DiagnosticCodes.EmulatorNotAvailable, $"'{display}' is a linux/arm64 image and --emulate needs {QemuArm64}, which is not installed{BinfmtNote(binfmt)}. Install it (apt-get install qemu-user-static), or {hostImage}.");
    }

    /// <summary>The status line kiln run prints before it starts an emulated instance.</summary>
    public string Describe(Platform image) => Kind switch
    {
        EmulationKind.Binfmt => $"running {image} under emulation: the kernel's binfmt_misc handler '{Binfmt!.Name}' ({Binfmt.Interpreter}) runs its programs",
        EmulationKind.QemuUser => $"running {image} under emulation: {Emulator} runs the entrypoint{BinfmtNote(Binfmt)}; programs the server starts itself cannot run without a binfmt_misc handler",
        _ => $"running {image}",
    };

    /// <summary>Puts the emulator in front of the entrypoint and of a command health check (qemu-user only).</summary>
    public RunSpec Apply(RunSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (Kind != EmulationKind.QemuUser)
        {
            return spec;
        }

        return spec with
        {
            Args = [ContainerPath, .. spec.Args],
            Health = spec.Health is { Command.IsDefaultOrEmpty: false } health ? health with { Command = [ContainerPath, .. health.Command] } : spec.Health,
            Emulator = Emulator,
        };
    }

    private static string BinfmtNote(BinfmtHandler? binfmt) => binfmt switch
    {
        null => " (no binfmt_misc handler for aarch64 is registered on this machine)",
        { Enabled: false } => $" (binfmt_misc's aarch64 handler '{binfmt.Name}' is disabled)",
        { WorksInContainers: false } => $" (binfmt_misc's aarch64 handler '{binfmt.Name}' lacks the F flag, so it cannot run inside a container's root)",
        _ => "",
    };
}
