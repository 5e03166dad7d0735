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
            TransferKind.Uploaded => $"uploaded {Formatting.ByteSize.Format(e.Size)}",
            TransferKind.Downloaded => $"downloaded {Formatting.ByteSize.Format(e.Size)}",
            _ => null,
        };
        if (what is not null)
        {
            log($"{e.Repository} {e.Digest.ToString()[..19]} {what}");
        }
    };
}
