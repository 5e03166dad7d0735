using System.Collections.Immutable;
using System.Text.Json;

namespace Kiln.Oci;

/// <summary>
/// The frame an image manifest and an image index share (image-spec v1.1.1): <c>schemaVersion</c> 2, <c>mediaType</c>,
/// an optional <c>artifactType</c>, the document's own members, then <c>subject</c> and <c>annotations</c>. One writer
/// and one reader of that frame, so that both documents keep the same canonical order and the same checks.
/// </summary>
internal static class OciDocument
{
    /// <summary>The frame's members read from a document whose media type is of the expected kind.</summary>
    internal readonly record struct Frame(string MediaType, string? ArtifactType, Descriptor? Subject, ImmutableSortedDictionary<string, string>? Annotations);

    /// <summary>Canonical JSON of a document: the frame around what <paramref name="body"/> writes.</summary>
    public static byte[] Write(Frame frame, Action<Utf8JsonWriter> body) => CanonicalJson.Serialize(w =>
    {
        w.WriteStartObject();
        w.WriteNumber("schemaVersion", 2);
        w.WriteString("mediaType", frame.MediaType);
        if (frame.ArtifactType is not null)
        {
            w.WriteString("artifactType", frame.ArtifactType);
        }

        body(w);
        if (frame.Subject is not null)
        {
            w.WritePropertyName("subject");
            frame.Subject.WriteTo(w);
        }

        CanonicalJson.WriteAnnotations(w, frame.Annotations);
        w.WriteEndObject();
    });

    /// <summary>Writes <paramref name="descriptors"/> as the array <paramref name="name"/> (empty when default).</summary>
    public static void WriteDescriptors(Utf8JsonWriter w, string name, ImmutableArray<Descriptor> descriptors)
    {
        w.WriteStartArray(name);
        foreach (var descriptor in descriptors.OrEmpty())
        {
            descriptor.WriteTo(w);
        }

        w.WriteEndArray();
    }

    /// <summary>
    /// Parses a document: schema version 2, a media type that <paramref name="isKind"/> accepts (absent means
    /// <paramref name="defaultMediaType"/>), then <paramref name="read"/> builds it from the root and the frame.
    /// </summary>
    /// <param name="where">The document's name in errors ("image manifest").</param>
    /// <param name="kind">What the media type must name, for the error ("an image manifest").</param>
    /// <exception cref="OciFormatException">Not a schema 2 document of that kind, or malformed.</exception>
    public static T Parse<T>(ReadOnlySpan<byte> json, string where, string defaultMediaType, Func<string, bool> isKind, string kind, Func<JsonElement, Frame, T> read)
    {
        using var document = JsonRead.Parse(json, where);
        var root = document.RootElement;
        long version = JsonRead.RequiredInt64(root, "schemaVersion", where);
        if (version != 2)
        {
            throw new OciFormatException($"{where}.schemaVersion: expected 2, got {version}.");
        }

        string mediaType = JsonRead.String(root, "mediaType", where) ?? defaultMediaType;
        if (!isKind(mediaType))
        {
            throw new OciFormatException($"{where}.mediaType: expected {kind}, got \"{mediaType}\".");
        }

        return read(root, new Frame(
            mediaType,
            JsonRead.String(root, "artifactType", where),
            JsonRead.TryGet(root, "subject", out var subject) ? Descriptor.Read(subject, $"{where}.subject") : null,
            JsonRead.StringMap(root, "annotations", where)));
    }
}
