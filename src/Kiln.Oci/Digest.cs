using System.Security.Cryptography;

namespace Kiln.Oci;

/// <summary>
/// A content digest, <c>algorithm:encoded</c>, as defined by the OCI image spec
/// (https://github.com/opencontainers/image-spec/blob/v1.1.1/descriptor.md#digests).
/// Only <c>sha256</c> and <c>sha512</c> are accepted; Kiln writes <c>sha256</c> only.
/// The constructor validates, so a <see cref="Digest"/> value (other than <c>default</c>) is always well formed.
/// </summary>
public readonly record struct Digest : IComparable<Digest>
{
    public const string Sha256Algorithm = "sha256";
    public const string Sha512Algorithm = "sha512";

    /// <exception cref="OciFormatException">The algorithm is not supported or the encoded part is not
    /// lowercase hex of the algorithm's length.</exception>
    public Digest(string algorithm, string encoded)
    {
        ArgumentNullException.ThrowIfNull(algorithm);
        ArgumentNullException.ThrowIfNull(encoded);
        string? problem = Validate(algorithm, encoded);
        if (problem is not null)
        {
            throw new OciFormatException($"Invalid digest '{algorithm}:{encoded}': {problem}.");
        }

        Algorithm = algorithm;
        Encoded = encoded;
    }

    /// <summary>"sha256" or "sha512".</summary>
    public string Algorithm { get; }

    /// <summary>The lowercase hex encoding of the hash.</summary>
    public string Encoded { get; }

    /// <summary>Parses <c>sha256:&lt;64 hex&gt;</c> or <c>sha512:&lt;128 hex&gt;</c>.</summary>
    /// <exception cref="OciFormatException">The string is not such a digest.</exception>
    public static Digest Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (!TryParse(value, out Digest digest, out string? problem))
        {
            throw new OciFormatException($"Invalid digest '{Truncate(value)}': {problem}.");
        }

        return digest;
    }

    public static bool TryParse(string? value, out Digest digest) => TryParse(value, out digest, out _);

    private static bool TryParse(string? value, out Digest digest, out string? problem)
    {
        digest = default;
        if (value is null)
        {
            problem = "null";
            return false;
        }

        int colon = value.IndexOf(':');
        if (colon <= 0)
        {
            problem = "expected 'algorithm:hex'";
            return false;
        }

        string algorithm = value[..colon];
        string encoded = value[(colon + 1)..];
        problem = Validate(algorithm, encoded);
        if (problem is not null)
        {
            return false;
        }

        digest = new Digest(algorithm, encoded);
        return true;
    }

    private static string? Validate(string algorithm, string encoded)
    {
        int expectedLength = algorithm switch
        {
            Sha256Algorithm => 64,
            Sha512Algorithm => 128,
            _ => -1,
        };
        if (expectedLength < 0)
        {
            return $"unsupported algorithm '{algorithm}' (expected sha256 or sha512)";
        }

        if (encoded.Length != expectedLength)
        {
            return $"{algorithm} needs {expectedLength} hex digits, got {encoded.Length}";
        }

        foreach (char c in encoded)
        {
            if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c))
            {
                return $"'{c}' is not a lowercase hex digit";
            }
        }

        return null;
    }

    /// <summary>The SHA-256 digest of <paramref name="data"/>.</summary>
    public static Digest Sha256(ReadOnlySpan<byte> data)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(data, hash);
        return FromSha256Hash(hash);
    }

    /// <summary>The SHA-256 digest of the rest of <paramref name="stream"/> (read to its end).</summary>
    public static Digest Sha256(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(stream, hash);
        return FromSha256Hash(hash);
    }

    /// <summary>Wraps an already computed 32-byte SHA-256 hash.</summary>
    public static Digest FromSha256Hash(ReadOnlySpan<byte> hash32)
    {
        if (hash32.Length != SHA256.HashSizeInBytes)
        {
            throw new ArgumentException($"A SHA-256 hash is 32 bytes, got {hash32.Length}.", nameof(hash32));
        }

        return new Digest(Sha256Algorithm, Convert.ToHexStringLower(hash32), validated: true);
    }

    private Digest(string algorithm, string encoded, bool validated)
    {
        _ = validated;
        Algorithm = algorithm;
        Encoded = encoded;
    }

    /// <summary>Computes the digest of <paramref name="data"/> with this digest's algorithm and compares.</summary>
    public bool Matches(ReadOnlySpan<byte> data)
    {
        string actual = Algorithm == Sha512Algorithm
            ? Convert.ToHexStringLower(SHA512.HashData(data))
            : Convert.ToHexStringLower(SHA256.HashData(data));
        return actual == Encoded;
    }

    public int CompareTo(Digest other) => string.CompareOrdinal(ToString(), other.ToString());

    public override string ToString() => Algorithm is null ? "" : $"{Algorithm}:{Encoded}";

    private static string Truncate(string value) => value.Length <= 140 ? value : value[..140] + "…";
}
