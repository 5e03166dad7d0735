namespace Kiln.Oci;

/// <summary>
/// Wraps a tar stream from outside before it is given to <see cref="System.Formats.Tar.TarReader"/>, which buffers
/// the whole content of a metadata entry (PAX <c>x</c>/<c>g</c>, GNU long name <c>L</c>/<c>K</c>) in memory, sized
/// by the entry's header: a 10 KB archive could otherwise make it allocate gigabytes. Each 512-byte block that
/// passes through at a block boundary and is a ustar/GNU header of such an entry is checked before the reader sees
/// it; a declared size above <see cref="MaxMetadataSize"/> ends the read with an <see cref="InvalidDataException"/>.
/// </summary>
/// <remarks>Blocks are recognised by their content (the <c>ustar</c> magic and the type flag), so the guard needs
/// no tar parser of its own; a data block that looks exactly like such a header with a size over the limit would be
/// refused too, which real archives (whose metadata entries are a few hundred bytes) do not contain.</remarks>
public sealed class TarInputGuard : Stream
{
    /// <summary>The largest metadata entry accepted (1 MiB; real ones are well under a kilobyte).</summary>
    public const long MaxMetadataSize = 1 << 20;

    private const int Block = 512;
    private readonly Stream _inner;
    private readonly bool _leaveOpen;
    private readonly byte[] _header = new byte[Block];
    private long _position;

    /// <param name="inner">The tar stream.</param>
    /// <param name="leaveOpen">Whether disposing the guard leaves <paramref name="inner"/> open.</param>
    public TarInputGuard(Stream inner, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(inner);
        _inner = inner;
        _leaveOpen = leaveOpen;
        _position = inner.CanSeek ? inner.Position : 0;
    }

    public override bool CanRead => true;

    public override bool CanSeek => _inner.CanSeek;

    public override bool CanWrite => false;

    public override long Length => _inner.Length;

    public override long Position
    {
        get => _inner.CanSeek ? _inner.Position : _position;
        set
        {
            _inner.Position = value;
            _position = value;
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int read = _inner.Read(buffer);
        Observe(buffer[..read]);
        return read;
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        _position = _inner.Seek(offset, origin);
        return _position;
    }

    /// <summary>Copies the bytes of each block into the staging header and checks the block once it is whole.</summary>
    private void Observe(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            int inBlock = (int)(_position % Block);
            int take = Math.Min(Block - inBlock, data.Length);
            data[..take].CopyTo(_header.AsSpan(inBlock));
            _position += take;
            data = data[take..];
            if (inBlock + take == Block)
            {
                Check(_position - Block);
            }
        }
    }

    private void Check(long offset)
    {
        byte type = _header[156];
        if (type is not ((byte)'x' or (byte)'g' or (byte)'L' or (byte)'K') || !_header.AsSpan(257, 5).SequenceEqual("ustar"u8))
        {
            return;
        }

        long size = ParseSize(_header.AsSpan(124, 12));
        if (size > MaxMetadataSize)
        {
            throw new InvalidDataException(
                $"the tar header at offset {offset} declares a '{(char)type}' metadata entry of {(size == long.MaxValue ? "an unreadable number of" : size.ToString(System.Globalization.CultureInfo.InvariantCulture))} bytes (at most {MaxMetadataSize} are accepted)");
        }
    }

    /// <summary>Octal (ustar) or base-256 (GNU, high bit set); anything unreadable counts as too large.</summary>
    private static long ParseSize(ReadOnlySpan<byte> field)
    {
        if ((field[0] & 0x80) != 0)
        {
            if (field[0] != 0x80)
            {
                return long.MaxValue;
            }

            long value = 0;
            foreach (byte b in field[1..])
            {
                if (value > (long.MaxValue >> 8))
                {
                    return long.MaxValue;
                }

                value = (value << 8) | b;
            }

            return value;
        }

        var text = field.TrimStart((byte)' ');
        int end = text.IndexOfAny((byte)0, (byte)' ');
        text = end < 0 ? text : text[..end];
        long octal = 0;
        foreach (byte b in text)
        {
            if (b is < (byte)'0' or > (byte)'7' || octal > (long.MaxValue >> 3))
            {
                return long.MaxValue;
            }

            octal = (octal << 3) | (uint)(b - '0');
        }

        return octal;
    }

    public override void Flush() { }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_leaveOpen)
        {
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
