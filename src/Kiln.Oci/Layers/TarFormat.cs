using System.Buffers.Binary;
using System.Text;

namespace Kiln.Oci;

/// <summary>
/// Writes tar headers in the GNU format that GNU tar writes by default (magic "ustar  \0"): every numeric field
/// octal with leading zeros, base-256 when a value does not fit, names or link targets longer than 100 bytes in a
/// preceding "././@LongLink" entry ('L' or 'K'), uname/gname/atime/ctime empty. No PAX headers, so nothing that
/// depends on the process, the host or the clock can slip into the archive.
/// </summary>
internal static class TarFormat
{
    public const int BlockSize = 512;
    public const byte RegularFile = (byte)'0';
    public const byte HardLink = (byte)'1';
    public const byte SymbolicLink = (byte)'2';
    public const byte Directory = (byte)'5';
    private const byte LongName = (byte)'L';
    private const byte LongLinkName = (byte)'K';
    private const int NameLength = 100;

    /// <summary>Writes the header block(s) of one entry to <paramref name="output"/>.</summary>
    public static void WriteHeader(
        Action<ReadOnlySpan<byte>> output, string name, byte typeFlag, int mode, long uid, long gid, long size, long mtime, string? linkName)
    {
        byte[] nameBytes = Encoding.UTF8.GetBytes(name);
        byte[]? linkBytes = linkName is null ? null : Encoding.UTF8.GetBytes(linkName);
        if (linkBytes is { Length: > NameLength })
        {
            WriteLongLink(output, LongLinkName, linkBytes);
        }

        if (nameBytes.Length > NameLength)
        {
            WriteLongLink(output, LongName, nameBytes);
        }

        Span<byte> header = stackalloc byte[BlockSize];
        Fill(header, nameBytes, typeFlag, mode, uid, gid, size, mtime, linkBytes);
        output(header);
    }

    /// <summary>Zero bytes that pad <paramref name="size"/> bytes of content to a whole block.</summary>
    public static int PaddingFor(long size) => (int)((BlockSize - (size % BlockSize)) % BlockSize);

    private static void WriteLongLink(Action<ReadOnlySpan<byte>> output, byte typeFlag, byte[] value)
    {
        Span<byte> header = stackalloc byte[BlockSize];
        // As GNU tar writes it: mode 0644, owner 0:0, mtime 0, size including the terminating NUL.
        Fill(header, "././@LongLink"u8, typeFlag, 0x1A4, 0, 0, value.Length + 1, 0, null);
        output(header);
        int dataLength = value.Length + 1;
        byte[] data = new byte[dataLength + PaddingFor(dataLength)];
        value.CopyTo(data, 0);
        output(data);
    }

    private static void Fill(
        Span<byte> h, ReadOnlySpan<byte> name, byte typeFlag, int mode, long uid, long gid, long size, long mtime, ReadOnlySpan<byte> link)
    {
        h.Clear();
        name[..Math.Min(name.Length, NameLength)].CopyTo(h);
        WriteNumber(h.Slice(100, 8), mode);
        WriteNumber(h.Slice(108, 8), uid);
        WriteNumber(h.Slice(116, 8), gid);
        WriteNumber(h.Slice(124, 12), size);
        WriteNumber(h.Slice(136, 12), mtime);
        h[156] = typeFlag;
        if (!link.IsEmpty)
        {
            link[..Math.Min(link.Length, NameLength)].CopyTo(h.Slice(157, NameLength));
        }

        "ustar  \0"u8.CopyTo(h.Slice(257, 8));
        h.Slice(148, 8).Fill((byte)' ');
        int checksum = 0;
        foreach (byte b in h)
        {
            checksum += b;
        }

        // Six octal digits, NUL, space — GNU tar's layout of the checksum field.
        WriteOctal(h.Slice(148, 7), checksum);
        h[155] = (byte)' ';
    }

    /// <summary>Octal with leading zeros and a terminating NUL; base-256 (GNU) when the value does not fit.</summary>
    private static void WriteNumber(Span<byte> field, long value)
    {
        if (value < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "Tar header numbers must not be negative.");
        }

        long max = 1L << (3 * (field.Length - 1));
        if (value < max)
        {
            WriteOctal(field, value);
            return;
        }

        field.Clear();
        field[0] = 0x80;
        BinaryPrimitives.WriteInt64BigEndian(field[^8..], value);
        field[0] |= 0x80;
    }

    private static void WriteOctal(Span<byte> field, long value)
    {
        int digits = field.Length - 1;
        for (int i = digits - 1; i >= 0; i--)
        {
            field[i] = (byte)('0' + (value & 7));
            value >>= 3;
        }

        field[digits] = 0;
    }
}
