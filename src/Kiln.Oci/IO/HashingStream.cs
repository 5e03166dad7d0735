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
