using System.Security.Cryptography;

namespace Kiln.Oci.IO;

/// <summary>
/// Hashes the bytes that pass through it, in whichever direction it was opened, with a digest algorithm
/// (<see cref="Digest.Sha256Algorithm"/> or <see cref="Digest.Sha512Algorithm"/>). The one place where Kiln hashes
/// content while copying it: layer and blob writers, downloads, uploads and archives all go through it or through
/// <see cref="VerifyingStream"/> and <see cref="DigestCopy"/>, which are built on it. Disposing it leaves the inner
/// stream open unless asked otherwise.
/// </summary>
public sealed class HashingStream : Stream
{
    private readonly Stream _inner;
    private readonly bool _write;
    private readonly bool _leaveOpen;
    private readonly IncrementalHash _hash;
    private readonly string _algorithm;
    private long _length;

    /// <summary>Wraps <paramref name="inner"/> for reading (or, with <paramref name="write"/>, for writing).</summary>
    public HashingStream(Stream inner, string algorithm = Digest.Sha256Algorithm, bool write = false, bool leaveOpen = true)
    {
        ArgumentNullException.ThrowIfNull(inner);
        _inner = inner;
        _write = write;
        _leaveOpen = leaveOpen;
        _algorithm = algorithm;
        _hash = CreateHash(algorithm);
    }

    /// <summary>The algorithm's hash, for the two algorithms OCI digests use.</summary>
    /// <exception cref="ArgumentException">Another algorithm.</exception>
    public static IncrementalHash CreateHash(string algorithm) => algorithm switch
    {
        Digest.Sha256Algorithm => IncrementalHash.CreateHash(HashAlgorithmName.SHA256),
        Digest.Sha512Algorithm => IncrementalHash.CreateHash(HashAlgorithmName.SHA512),
        _ => throw new ArgumentException($"'{algorithm}' is not a digest algorithm Kiln supports (sha256, sha512).", nameof(algorithm)),
    };

    /// <summary>The digest of everything that went through so far.</summary>
    public Digest GetDigest()
    {
        Span<byte> hash = stackalloc byte[64];
        var written = _hash.GetCurrentHash(hash);
        return new Digest(_algorithm, Convert.ToHexStringLower(hash[..written]));
    }

    /// <inheritdoc />
    public override bool CanRead => !_write;

    /// <inheritdoc />
    public override bool CanSeek => false;

    /// <inheritdoc />
    public override bool CanWrite => _write;

    /// <summary>Bytes that went through so far.</summary>
    public override long Length => _length;

    /// <inheritdoc />
    public override long Position { get => _length; set => throw new NotSupportedException(); }

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    /// <inheritdoc />
    public override int Read(Span<byte> buffer)
    {
        EnsureReading();
        var read = _inner.Read(buffer);
        Append(buffer[..read]);
        return read;
    }

    /// <inheritdoc />
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        EnsureReading();
        var read = await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        Append(buffer.Span[..read]);
        return read;
    }

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    /// <inheritdoc />
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        EnsureWriting();
        _inner.Write(buffer);
        Append(buffer);
    }

    /// <inheritdoc />
    public override void WriteByte(byte value) => Write([value]);

    /// <inheritdoc />
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        EnsureWriting();
        await _inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        Append(buffer.Span);
    }

    /// <inheritdoc />
    public override void Flush()
    {
        if (_write)
        {
            _inner.Flush();
        }
    }

    /// <inheritdoc />
    public override Task FlushAsync(CancellationToken cancellationToken) => _write ? _inner.FlushAsync(cancellationToken) : Task.CompletedTask;

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
            if (!_leaveOpen)
            {
                _inner.Dispose();
            }
        }

        base.Dispose(disposing);
    }

    private void Append(ReadOnlySpan<byte> data)
    {
        _hash.AppendData(data);
        _length += data.Length;
    }

    private void EnsureReading()
    {
        if (_write)
        {
            throw new NotSupportedException("This hashing stream was opened for writing.");
        }
    }

    private void EnsureWriting()
    {
        if (!_write)
        {
            throw new NotSupportedException("This hashing stream was opened for reading.");
        }
    }
}

/// <summary>
/// Reads content that must be <see cref="Expected"/>: hashes it with the expected digest's algorithm as it streams, and
/// throws <see cref="ContentMismatchException"/> the moment it runs past the expected size, ends short, or reaches the
/// expected size with another digest. The check at the expected size (not only at the end of the stream) matters for
/// readers that stop there, such as a chunked upload: the last chunk is refused before it leaves.
/// </summary>
public sealed class VerifyingStream : Stream
{
    private readonly HashingStream _hashing;
    private readonly Stream _inner;
    private readonly bool _leaveOpen;
    private bool _verified;

    /// <summary>Wraps <paramref name="inner"/>; <paramref name="what"/> names the content in the error.</summary>
    public VerifyingStream(Stream inner, Descriptor expected, string what, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(inner);
        _inner = inner;
        _leaveOpen = leaveOpen;
        _hashing = new HashingStream(inner, expected.Digest.Algorithm);
        Expected = expected;
        What = what;
    }

    /// <summary>The content expected.</summary>
    public Descriptor Expected { get; }

    /// <summary>What the content is, for the error message (e.g. "blob sha256:… in the layout '…'").</summary>
    public string What { get; }

    /// <inheritdoc />
    public override bool CanRead => true;

    /// <inheritdoc />
    public override bool CanSeek => false;

    /// <inheritdoc />
    public override bool CanWrite => false;

    /// <summary>The expected size (what an HTTP upload declares as Content-Length).</summary>
    public override long Length => Expected.Size;

    /// <inheritdoc />
    public override long Position { get => _hashing.Length; set => throw new NotSupportedException(); }

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    /// <inheritdoc />
    public override int Read(Span<byte> buffer) => Check(_hashing.Read(buffer));

    /// <inheritdoc />
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Check(await _hashing.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));

    /// <inheritdoc />
    public override void Flush()
    {
    }

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hashing.Dispose();
            if (!_leaveOpen)
            {
                _inner.Dispose();
            }
        }

        base.Dispose(disposing);
    }

    private int Check(int read)
    {
        var total = _hashing.Length;
        if (total > Expected.Size)
        {
            throw new ContentMismatchException(Expected, What, $"is longer than its declared {Expected.Size} bytes");
        }

        if (read == 0 && total < Expected.Size)
        {
            throw new ContentMismatchException(Expected, What, $"ends after {total} of its declared {Expected.Size} bytes");
        }

        if (total == Expected.Size && !_verified)
        {
            _verified = true;
            var actual = _hashing.GetDigest();
            if (actual != Expected.Digest)
            {
                throw new ContentMismatchException(Expected, What, $"hashes to {actual}");
            }
        }

        return read;
    }
}

/// <summary>Content did not match the digest or size that names it. The message says what, and what it was instead.</summary>
public sealed class ContentMismatchException(Descriptor expected, string what, string problem)
    : Exception($"The content of {what} {problem}, not {expected.Digest} ({expected.Size} bytes).")
{
    /// <summary>The content expected.</summary>
    public Descriptor Expected { get; } = expected;

    /// <summary>Finds a mismatch wrapped by a transport (HttpClient wraps what a request body's stream throws).</summary>
    public static ContentMismatchException? Find(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is ContentMismatchException mismatch)
            {
                return mismatch;
            }
        }

        return null;
    }
}

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
