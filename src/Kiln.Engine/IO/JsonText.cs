using System.Text.Json;

namespace Kiln.Engine.IO;

/// <summary>
/// The one text shape of Kiln's own JSON files (release.json, Kiln manifests, the lock, SBOMs): two-space indentation,
/// '\n' newlines on every OS, relaxed escaping, a final newline. Serialisation only; writing the bytes to disk
/// atomically is <see cref="Kiln.Oci.IO.AtomicFile"/>'s job.
/// </summary>
internal static class JsonText
{
    /// <summary>The bytes <paramref name="write"/> produces, in that shape.</summary>
    public static byte[] Write(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions
        {
            Indented = true,
            NewLine = "\n",
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        }))
        {
            write(writer);
        }

        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }
}
