using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Kiln.Engine.IO;

/// <summary>What reading a sealed cache file found.</summary>
internal enum SealState
{
    /// <summary>No file: a first build.</summary>
    Missing,

    /// <summary>The content matches its seal.</summary>
    Valid,

    /// <summary>A file of an earlier format, without a seal: rebuilt silently.</summary>
    Unsealed,

    /// <summary>Unreadable, or the content does not match its seal: rebuilt, with a warning.</summary>
    Damaged,
}

/// <summary>
/// A cache file that carries the SHA-256 of its own content (<c>{"seal":"…","entry":{…}}</c>), so that an entry
/// changed after Kiln wrote it (a bad disk, a stray edit, a half-restored cache) is noticed and rebuilt instead
/// of trusted. The seal is a checksum, not a signature: whoever can write obj/ can also reseal.
/// </summary>
internal static class SealedFile
{
    public static void Write<T>(string path, T entry, JsonTypeInfo<T> contract)
    {
        var content = JsonSerializer.SerializeToUtf8Bytes(entry, contract);
        var seal = Convert.ToHexStringLower(SHA256.HashData(content));
        var file = new List<byte>(content.Length + 100);
        file.AddRange(Encoding.UTF8.GetBytes($"{{\"seal\":\"{seal}\",\"entry\":"));
        file.AddRange(content);
        file.Add((byte)'}');
        AtomicFile.Write(path, file.ToArray());
    }

    public static SealState Read<T>(string path, JsonTypeInfo<T> contract, out T? entry)
        where T : class
    {
        entry = null;
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return SealState.Missing;
        }

        try
        {
            using var document = JsonDocument.Parse(bytes);
            if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty("seal", out var seal))
            {
                return SealState.Unsealed;
            }

            // GetRawText is the entry exactly as written, so its hash is the one sealed.
            var content = Encoding.UTF8.GetBytes(document.RootElement.GetProperty("entry").GetRawText());
            if (seal.GetString() != Convert.ToHexStringLower(SHA256.HashData(content)))
            {
                return SealState.Damaged;
            }

            entry = JsonSerializer.Deserialize(content, contract);
            return entry is null ? SealState.Damaged : SealState.Valid;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or NotSupportedException)
        {
            return SealState.Damaged;
        }
    }
}
