using System.Collections.Immutable;
using System.Text.Json;
using Kiln.Oci;

namespace Kiln.Engine.IO;

/// <summary>A field of one of Kiln's own files that is missing or of the wrong shape; the model that reads the file turns it into its coded error.</summary>
internal sealed class ArtifactFieldException(string field, string problem) : Exception($"field '{field}' {problem}")
{
    /// <summary>The field's JSON path from the document's root (images[0].digest).</summary>
    public string Field { get; } = field;

    /// <summary>What is wrong with it (is missing, is not a string, …).</summary>
    public string Problem { get; } = problem;
}

/// <summary>
/// Reads the fields of Kiln's own JSON files with the path of each, so that one missing or mistyped field is refused
/// by name (images[0].digest is missing) rather than surfacing as a KeyNotFoundException wherever the file is read.
/// </summary>
internal readonly struct ArtifactJson(JsonElement element, string path)
{
    public JsonElement Element => element;

    public string Path => path;

    /// <summary>The document's root, which must be an object.</summary>
    public static ArtifactJson Root(JsonDocument document) =>
        document.RootElement.ValueKind == JsonValueKind.Object
            ? new ArtifactJson(document.RootElement, "")
            : throw new ArtifactFieldException("$", "is not a JSON object");

    private string Child(string name) => path.Length == 0 ? name : $"{path}.{name}";

    private JsonElement? Get(string name, bool required) =>
        element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            ? value
            : required ? throw new ArtifactFieldException(Child(name), "is missing") : null;

    public string String(string name) => StringOrNull(name, required: true)!;

    public string? OptionalString(string name) => StringOrNull(name, required: false);

    private string? StringOrNull(string name, bool required)
    {
        if (Get(name, required) is not { } value)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String ? Text(value, Child(name)) : throw new ArtifactFieldException(Child(name), $"is not a string (it is {Describe(value)})");
    }

    // JsonDocument accepts a string whose bytes are not UTF-8 and only fails when it is read.
    private static string Text(JsonElement value, string field)
    {
        try
        {
            return value.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw new ArtifactFieldException(field, "is not valid UTF-8");
        }
    }

    /// <summary>A string that must not be empty.</summary>
    public string NonEmpty(string name) =>
        String(name) is { Length: > 0 } text ? text : throw new ArtifactFieldException(Child(name), "is empty");

    public long Int64(string name)
    {
        var value = Get(name, required: true)!.Value;
        return value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number)
            ? number
            : throw new ArtifactFieldException(Child(name), $"is not an integer (it is {Describe(value)})");
    }

    public Digest Digest(string name)
    {
        var text = String(name);
        return Kiln.Oci.Digest.TryParse(text, out var digest) ? digest : throw new ArtifactFieldException(Child(name), $"is not a digest ('{text}')");
    }

    /// <summary>A string equal to <paramref name="expected"/> (kind, schemaVersion-like markers).</summary>
    public void Expect(string name, string expected)
    {
        var text = String(name);
        if (text != expected)
        {
            throw new ArtifactFieldException(Child(name), $"is '{text}', not '{expected}'");
        }
    }

    public void Expect(string name, long expected)
    {
        var number = Int64(name);
        if (number != expected)
        {
            throw new ArtifactFieldException(Child(name), $"is {number}, not {expected}");
        }
    }

    /// <summary>Each element of an array field, read by <paramref name="read"/>; an absent optional array is empty.</summary>
    public ImmutableArray<T> Array<T>(string name, Func<ArtifactJson, T> read, bool required = true)
    {
        if (Get(name, required) is not { } value)
        {
            return [];
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            throw new ArtifactFieldException(Child(name), $"is not an array (it is {Describe(value)})");
        }

        var items = ImmutableArray.CreateBuilder<T>();
        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            items.Add(read(new ArtifactJson(item, $"{Child(name)}[{index++}]")));
        }

        return items.ToImmutable();
    }

    /// <summary>This element as an object (an array item).</summary>
    public ArtifactJson Object() =>
        element.ValueKind == JsonValueKind.Object ? this : throw new ArtifactFieldException(path, $"is not an object (it is {Describe(element)})");

    /// <summary>This element as a string (an array item).</summary>
    public string AsString() =>
        element.ValueKind == JsonValueKind.String ? Text(element, path) : throw new ArtifactFieldException(path, $"is not a string (it is {Describe(element)})");

    /// <summary>A field that must be an object; an optional one that is absent is null.</summary>
    public ArtifactJson? Child(string name, bool required)
    {
        if (Get(name, required) is not { } value)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Object ? new ArtifactJson(value, Child(name)) : throw new ArtifactFieldException(Child(name), $"is not an object (it is {Describe(value)})");
    }

    /// <summary>An integer field that may be absent.</summary>
    public long? OptionalInt64(string name) => Get(name, required: false) is null ? null : Int64(name);

    /// <summary>A number field (integral or not).</summary>
    public double Number(string name)
    {
        var value = Get(name, required: true)!.Value;
        return value.ValueKind == JsonValueKind.Number ? value.GetDouble() : throw new ArtifactFieldException(Child(name), $"is not a number (it is {Describe(value)})");
    }

    /// <summary>A boolean field that may be absent.</summary>
    public bool? OptionalBoolean(string name)
    {
        if (Get(name, required: false) is not { } value)
        {
            return null;
        }

        return value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean() : throw new ArtifactFieldException(Child(name), $"is not a boolean (it is {Describe(value)})");
    }

    /// <summary>An object of string values (labels), by ordinal key.</summary>
    public ImmutableSortedDictionary<string, string> StringMap(string name)
    {
        var map = Child(name, required: true)!.Value;
        var result = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        foreach (var property in map.Element.EnumerateObject())
        {
            result[property.Name] = map.String(property.Name);
        }

        return result.ToImmutable();
    }

    /// <summary>Throws for this field with <paramref name="problem"/> (a rule beyond the field's type).</summary>
    public ArtifactFieldException Invalid(string name, string problem) => new(Child(name), problem);

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };
}
