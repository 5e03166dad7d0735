using System.Globalization;
using Kiln.Oci.Registry;

namespace Kiln.Engine.Registry;

/// <summary>One log line per finished blob transfer (MSBuild logs them at normal verbosity); progress events are dropped.</summary>
public static class TransferLog
{
    /// <summary>An observer that writes a line for each blob that was found, mounted, uploaded or downloaded.</summary>
    public static Action<TransferEvent> Lines(Action<string> log) => e =>
    {
        var what = e.Kind switch
        {
            TransferKind.Exists => "exists",
            TransferKind.Mounted => "mounted",
            TransferKind.Uploaded => $"uploaded {Size(e.Size)}",
            TransferKind.Downloaded => $"downloaded {Size(e.Size)}",
            _ => null,
        };
        if (what is not null)
        {
            log($"{e.Repository} {e.Digest.ToString()[..19]} {what}");
        }
    };

    /// <summary>A byte count for people.</summary>
    public static string Size(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => (bytes / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) + " KiB",
        _ => (bytes / 1024.0 / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) + " MiB",
    };
}
