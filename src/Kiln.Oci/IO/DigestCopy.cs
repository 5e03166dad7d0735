namespace Kiln.Oci.IO;

/// <summary>Copies while hashing, with the digest algorithm given.</summary>
public static class DigestCopy
{
    private const int BufferSize = 128 * 1024;

    /// <summary>Copies <paramref name="source"/> to its end into <paramref name="destination"/>; returns the length and digest copied.</summary>
    public static (long Length, Digest Digest) Copy(Stream source, Stream destination, string algorithm = Digest.Sha256Algorithm)
    {
        using var hashing = new HashingStream(source, algorithm);
        hashing.CopyTo(destination, BufferSize);
        return (hashing.Length, hashing.GetDigest());
    }

    /// <summary>
    /// Copies <paramref name="source"/> to its end into <paramref name="destination"/>, reporting the bytes copied so far
    /// after each buffer; returns the length and digest copied.
    /// </summary>
    public static async Task<(long Length, Digest Digest)> CopyAsync(Stream source, Stream destination, string algorithm = Digest.Sha256Algorithm, Action<long>? progress = null, CancellationToken cancellationToken = default)
    {
        using var hashing = new HashingStream(source, algorithm);
        var buffer = new byte[BufferSize];
        int read;
        while ((read = await hashing.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            progress?.Invoke(hashing.Length);
        }

        return (hashing.Length, hashing.GetDigest());
    }
}
