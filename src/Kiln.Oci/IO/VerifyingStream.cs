namespace Kiln.Oci.IO;

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
