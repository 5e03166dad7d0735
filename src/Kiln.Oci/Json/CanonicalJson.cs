using System.Buffers;
using System.Collections.Immutable;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Kiln.Oci;

/// <summary>
/// Canonical JSON as Kiln writes it: compact (no insignificant whitespace), UTF-8 without BOM, non-ASCII left
/// unescaped (only what JSON requires is escaped), property order fixed by the writer code. The same object
/// therefore always serialises to the same bytes.
/// </summary>
public static class CanonicalJson
{
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Indented = false,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = false,
    };

    /// <summary>Runs <paramref name="write"/> against a compact, relaxed-escaping writer and returns its bytes.
    /// Nothing is appended (no trailing newline).</summary>
    public static byte[] Serialize(Action<Utf8JsonWriter> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            write(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Decodes every string and property name under <paramref name="element"/> once. JsonDocument accepts invalid
    /// UTF-8 and lone surrogate escapes (<c>"\ud800"</c>) inside strings and only fails when such a string is read;
    /// readers of outside JSON call this right after parsing, where the failure can still be reported as bad input.
    /// </summary>
    /// <exception cref="InvalidOperationException">A string is not valid UTF-8 or holds a lone surrogate.</exception>
    public static void DecodeStrings(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                _ = element.GetString();
                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    DecodeStrings(item);
                }

                break;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    _ = property.Name;
                    DecodeStrings(property.Value);
                }

                break;
        }
    }

    internal static void WriteStringArray(Utf8JsonWriter w, string name, ImmutableArray<string> values)
    {
        w.WriteStartArray(name);
        foreach (string v in values)
        {
            w.WriteStringValue(v);
        }

        w.WriteEndArray();
    }

    internal static void WriteStringMap(Utf8JsonWriter w, string name, IEnumerable<KeyValuePair<string, string>> map)
    {
        w.WriteStartObject(name);
        foreach (var (key, value) in map.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            w.WriteString(key, value);
        }

        w.WriteEndObject();
    }

    /// <summary>Docker/OCI "set" encoding: <c>{"key":{}}</c>.</summary>
    internal static void WriteEmptyObjectMap(Utf8JsonWriter w, string name, IEnumerable<string> keys)
    {
        w.WriteStartObject(name);
        foreach (string key in keys.Order(StringComparer.Ordinal))
        {
            w.WriteStartObject(key);
            w.WriteEndObject();
        }

        w.WriteEndObject();
    }

    internal static void WriteAnnotations(Utf8JsonWriter w, ImmutableSortedDictionary<string, string>? annotations)
    {
        if (annotations is { Count: > 0 })
        {
            WriteStringMap(w, "annotations", annotations);
        }
    }
}

/// <summary>Tolerant reading of OCI/Docker JSON: unknown members ignored, null or missing collections read as
/// empty, every type error turned into an <see cref="OciFormatException"/> naming the member.</summary>
internal static class JsonRead
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 64 };

    public static JsonDocument Parse(ReadOnlySpan<byte> json, string what)
    {
        try
        {
            var document = JsonDocument.Parse(json.ToArray(), DocumentOptions);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                document.Dispose();
                throw new OciFormatException($"{what}: expected a JSON object at the top level.");
            }

            try
            {
                CheckStrings(document, what);
            }
            catch (OciFormatException)
            {
                document.Dispose();
                throw;
            }

            return document;
        }
        catch (JsonException e)
        {
            throw new OciFormatException($"{what}: invalid JSON ({e.Message})", e);
        }
    }

    /// <summary><see cref="CanonicalJson.DecodeStrings"/>, failing as malformed input.</summary>
    public static void CheckStrings(JsonDocument document, string what)
    {
        try
        {
            CanonicalJson.DecodeStrings(document.RootElement);
        }
        catch (InvalidOperationException e)
        {
            throw new OciFormatException($"{what}: invalid JSON (a string is not valid UTF-8 or UTF-16: {e.Message})", e);
        }
    }

    public static bool TryGet(JsonElement obj, string name, out JsonElement value)
    {
        if (obj.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null)
        {
            return true;
        }

        value = default;
        return false;
    }

    public static string? String(JsonElement obj, string name, string where)
    {
        if (!TryGet(obj, name, out var v))
        {
            return null;
        }

        return v.ValueKind == JsonValueKind.String
            ? v.GetString()
            : throw new OciFormatException($"{where}.{name}: expected a string, got {v.ValueKind}.");
    }

    public static string RequiredString(JsonElement obj, string name, string where) =>
        String(obj, name, where) ?? throw new OciFormatException($"{where}.{name}: required member is missing.");

    public static long RequiredInt64(JsonElement obj, string name, string where)
    {
        if (!TryGet(obj, name, out var v))
        {
            throw new OciFormatException($"{where}.{name}: required member is missing.");
        }

        return v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out long n)
            ? n
            : throw new OciFormatException($"{where}.{name}: expected an integer, got {v.GetRawText()}.");
    }

    public static bool Bool(JsonElement obj, string name, string where)
    {
        if (!TryGet(obj, name, out var v))
        {
            return false;
        }

        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new OciFormatException($"{where}.{name}: expected true or false, got {v.ValueKind}."),
        };
    }

    public static Digest Digest(JsonElement obj, string name, string where)
    {
        string s = RequiredString(obj, name, where);
        try
        {
            return Oci.Digest.Parse(s);
        }
        catch (OciFormatException e)
        {
            throw new OciFormatException($"{where}.{name}: {e.Message}", e);
        }
    }

    public static ImmutableArray<T> Array<T>(JsonElement obj, string name, string where, Func<JsonElement, string, T> read)
    {
        if (!TryGet(obj, name, out var v))
        {
            return [];
        }

        if (v.ValueKind != JsonValueKind.Array)
        {
            throw new OciFormatException($"{where}.{name}: expected an array, got {v.ValueKind}.");
        }

        var builder = ImmutableArray.CreateBuilder<T>(v.GetArrayLength());
        int i = 0;
        foreach (var item in v.EnumerateArray())
        {
            builder.Add(read(item, $"{where}.{name}[{i++}]"));
        }

        return builder.MoveToImmutable();
    }

    public static ImmutableArray<string> StringArray(JsonElement obj, string name, string where) =>
        Array(obj, name, where, static (e, w) => e.ValueKind == JsonValueKind.String
            ? e.GetString()!
            : throw new OciFormatException($"{w}: expected a string, got {e.ValueKind}."));

    public static void RequireObject(JsonElement e, string where)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            throw new OciFormatException($"{where}: expected an object, got {e.ValueKind}.");
        }
    }

    public static ImmutableSortedDictionary<string, string>? StringMap(JsonElement obj, string name, string where)
    {
        if (!TryGet(obj, name, out var v))
        {
            return null;
        }

        RequireObject(v, $"{where}.{name}");
        var builder = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        foreach (var p in v.EnumerateObject())
        {
            builder[p.Name] = p.Value.ValueKind == JsonValueKind.String
                ? p.Value.GetString()!
                : throw new OciFormatException($"{where}.{name}.{p.Name}: expected a string, got {p.Value.ValueKind}.");
        }

        return builder.ToImmutable();
    }

    public static ImmutableSortedSet<string> KeySet(JsonElement obj, string name, string where)
    {
        if (!TryGet(obj, name, out var v))
        {
            return ImmutableSortedSet<string>.Empty.WithComparer(StringComparer.Ordinal);
        }

        RequireObject(v, $"{where}.{name}");
        return v.EnumerateObject().Select(p => p.Name).ToImmutableSortedSet(StringComparer.Ordinal);
    }
}

/// <summary>Structural equality for the immutable collections held by the records of this library (records
/// compare ImmutableArray and immutable dictionaries by reference otherwise).</summary>
internal static class Structural
{
    public static bool Equal<T>(ImmutableArray<T> a, ImmutableArray<T> b) =>
        a.IsDefaultOrEmpty ? b.IsDefaultOrEmpty : !b.IsDefault && a.AsSpan().SequenceEqual(b.AsSpan(), EqualityComparer<T>.Default);

    public static bool Equal<TKey, TValue>(IReadOnlyDictionary<TKey, TValue>? a, IReadOnlyDictionary<TKey, TValue>? b)
        where TKey : notnull
    {
        if (a is null || a.Count == 0)
        {
            return b is null || b.Count == 0;
        }

        if (b is null || a.Count != b.Count)
        {
            return false;
        }

        foreach (var (key, value) in a)
        {
            if (!b.TryGetValue(key, out var other) || !EqualityComparer<TValue>.Default.Equals(value, other))
            {
                return false;
            }
        }

        return true;
    }

    public static bool Equal(IReadOnlySet<string>? a, IReadOnlySet<string>? b) =>
        (a is null || a.Count == 0) ? (b is null || b.Count == 0) : b is not null && a.SetEquals(b);

    public static int Hash<T>(ImmutableArray<T> a)
    {
        var h = new HashCode();
        if (!a.IsDefault)
        {
            foreach (var item in a)
            {
                h.Add(item);
            }
        }

        return h.ToHashCode();
    }

    public static int Hash<TKey, TValue>(IEnumerable<KeyValuePair<TKey, TValue>>? map)
    {
        var h = new HashCode();
        if (map is not null)
        {
            foreach (var (k, v) in map)
            {
                h.Add(k);
                h.Add(v);
            }
        }

        return h.ToHashCode();
    }

    public static ImmutableArray<T> OrEmpty<T>(this ImmutableArray<T> a) => a.IsDefault ? [] : a;
}
