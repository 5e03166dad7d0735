using System.Globalization;

namespace Kiln.Engine.Formatting;

/// <summary>Byte counts for people, the same in every log line and table Kiln prints.</summary>
public static class ByteSize
{
    /// <summary>"512 B", "48.1 KiB", "56.0 MiB" (invariant culture).</summary>
    public static string Format(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => (bytes / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) + " KiB",
        _ => (bytes / 1024.0 / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) + " MiB",
    };
}
