using System.CommandLine;
using Kiln.Engine.Diagnostics;
using Kiln.Oci;

namespace Kiln.Cli;

/// <summary>The <c>--platform os/arch[/variant]</c> option of the verbs that read one image out of a multi-platform index.</summary>
internal static class PlatformEdge
{
    public static Option<string?> Option() => new("--platform")
    {
        Description = "The platform whose image to read out of a multi-platform index, os/architecture[/variant] (default: linux/amd64).",
    };

    /// <summary>The platform named, linux/amd64 when none is; KILN5030 for text that is not os/architecture[/variant].</summary>
    public static Platform Parse(string? text) =>
        string.IsNullOrWhiteSpace(text) ? PlatformSelection.LinuxAmd64
        : PlatformSelection.TryParse(text.Trim(), out var platform, out var error) ? platform
        : throw new KilnException(DiagnosticCodes.CommandLineInvalid, $"--platform {error}");
}
