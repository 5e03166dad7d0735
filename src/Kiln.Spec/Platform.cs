namespace Kiln.Spec;

/// <summary>
/// An operating system and CPU architecture an image is built for, written <c>os/arch</c> (<c>linux/amd64</c>) as OCI
/// and every container tool write it. List a server's platforms in <see cref="ServerSpec.Platforms"/>.
/// </summary>
/// <param name="Os">The OCI operating system (<c>linux</c>).</param>
/// <param name="Architecture">The OCI architecture (<c>amd64</c>, <c>arm64</c>).</param>
public sealed record Platform(string Os, string Architecture)
{
    /// <summary>64-bit x86 Linux: .NET's <c>linux-x64</c>, Debian's <c>amd64</c>.</summary>
    public static Platform LinuxAmd64 { get; } = new("linux", "amd64");

    /// <summary>64-bit ARM Linux: .NET's <c>linux-arm64</c>, Debian's <c>arm64</c>.</summary>
    public static Platform LinuxArm64 { get; } = new("linux", "arm64");

    /// <summary>The platforms Kiln builds images for, in the order they are documented.</summary>
    public static IReadOnlyList<Platform> Supported { get; } = [LinuxAmd64, LinuxArm64];

    /// <summary>The OCI variant (<c>v8</c>…); <see langword="null"/> for the supported platforms.</summary>
    public string? Variant { get; init; }

    /// <summary>
    /// The .NET runtime identifier that publishes for this platform (<c>linux-x64</c>, <c>linux-arm64</c>), or
    /// <see langword="null"/> for a platform Kiln does not support.
    /// </summary>
    public string? RuntimeIdentifier => (Os, Architecture, Variant) switch
    {
        ("linux", "amd64", null) => "linux-x64",
        ("linux", "arm64", null) => "linux-arm64",
        _ => null,
    };

    /// <summary>
    /// The Debian architecture of this platform's packages (<c>amd64</c>, <c>arm64</c>), or <see langword="null"/> for
    /// a platform Kiln does not support.
    /// </summary>
    public string? DebianArchitecture => (Os, Architecture, Variant) switch
    {
        ("linux", "amd64", null) => "amd64",
        ("linux", "arm64", null) => "arm64",
        _ => null,
    };

    /// <summary>Whether Kiln can build images for this platform.</summary>
    public bool IsSupported => RuntimeIdentifier is not null;

    /// <summary>The platform as text: <c>os/arch</c>, or <c>os/arch/variant</c>.</summary>
    public override string ToString() => Variant is null ? $"{Os}/{Architecture}" : $"{Os}/{Architecture}/{Variant}";

    /// <summary>Reads <c>os/arch</c> or <c>os/arch/variant</c> (<c>linux/arm64</c>).</summary>
    /// <exception cref="FormatException">The text is not of that form.</exception>
    public static Platform Parse(string text) =>
        TryParse(text, out var platform) ? platform : throw new FormatException($"'{text}' is not a platform; write os/architecture, for example linux/arm64.");

    /// <summary>Reads <c>os/arch</c> or <c>os/arch/variant</c>; false when <paramref name="text"/> is not of that form.</summary>
    public static bool TryParse(string? text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Platform? platform)
    {
        platform = null;
        var parts = (text ?? "").Trim().Split('/');
        if (parts.Length is < 2 or > 3 || parts.Any(p => p.Length == 0 || p.Any(c => !char.IsAsciiLetterLower(c) && !char.IsAsciiDigit(c))))
        {
            return false;
        }

        platform = new Platform(parts[0], parts[1]) { Variant = parts.Length == 3 ? parts[2] : null };
        return true;
    }
}
