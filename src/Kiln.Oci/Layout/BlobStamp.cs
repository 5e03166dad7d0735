using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Kiln.Oci;

/// <summary>
/// What a file looked like when Kiln wrote it: size, modification and change times in nanoseconds, device and
/// inode. A blob whose stamp is unchanged is the blob Kiln wrote and hashed; anything else (an edit, a copy, a
/// restore, a touch) changes at least one field, and the blob must be hashed again before it is trusted.
/// </summary>
/// <remarks>Linux reads the stamp with statx(2) (nanosecond times, inode, ctime, which no user-level tool can set
/// back). Elsewhere only size and the modification time (100 ns) are available, a weaker proof.</remarks>
public readonly record struct BlobStamp(long Size, long ModifiedNanoseconds, long ChangedNanoseconds, ulong Device, ulong Inode)
{
    /// <summary>The stamp of the file at <paramref name="path"/> (not following a final symlink), or null when it does not exist.</summary>
    public static BlobStamp? Of(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (OperatingSystem.IsLinux() && TryStatx(path, out var stamp))
        {
            return stamp;
        }

        var info = new FileInfo(path);
        if (!info.Exists || info.LinkTarget is not null)
        {
            return null;
        }

        return new BlobStamp(info.Length, (info.LastWriteTimeUtc.Ticks - DateTime.UnixEpoch.Ticks) * 100, 0, 0, 0);
    }

    /// <summary>The stamp as one token ("size:mtime:ctime:dev:ino") for cache files.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Size}:{ModifiedNanoseconds}:{ChangedNanoseconds}:{Device}:{Inode}");

    /// <summary>Parses <see cref="ToString"/>'s form; null when malformed.</summary>
    public static BlobStamp? Parse(string? text)
    {
        var parts = text?.Split(':');
        if (parts is not { Length: 5 }
            || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var size)
            || !long.TryParse(parts[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var modified)
            || !long.TryParse(parts[2], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var changed)
            || !ulong.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out var device)
            || !ulong.TryParse(parts[4], NumberStyles.None, CultureInfo.InvariantCulture, out var inode))
        {
            return null;
        }

        return new BlobStamp(size, modified, changed, device, inode);
    }

    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxBasicStats = 0x7FF;
    private const int SIfMt = 0xF000;
    private const int SIfReg = 0x8000;

    private static bool TryStatx(string path, out BlobStamp? stamp)
    {
        stamp = null;
        var buffer = new byte[256];
        try
        {
            if (statx(AtFdCwd, path, AtSymlinkNoFollow, StatxBasicStats, buffer) != 0)
            {
                // ENOENT and friends: no blob; any other failure falls back to the portable stamp.
                var errno = Marshal.GetLastPInvokeError();
                return errno is 2 or 20; // ENOENT, ENOTDIR
            }
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return false;
        }

        var span = buffer.AsSpan();
        int mode = BinaryPrimitives.ReadUInt16LittleEndian(span[28..]);
        if ((mode & SIfMt) != SIfReg)
        {
            return true; // not a regular file: no blob
        }

        ulong inode = BinaryPrimitives.ReadUInt64LittleEndian(span[32..]);
        long size = (long)BinaryPrimitives.ReadUInt64LittleEndian(span[40..]);
        long changed = Nanoseconds(span[96..]);
        long modified = Nanoseconds(span[112..]);
        ulong device = ((ulong)BinaryPrimitives.ReadUInt32LittleEndian(span[136..]) << 32) | BinaryPrimitives.ReadUInt32LittleEndian(span[140..]);
        stamp = new BlobStamp(size, modified, changed, device, inode);
        return true;
    }

    /// <summary>struct statx_timestamp: i64 tv_sec, u32 tv_nsec.</summary>
    private static long Nanoseconds(ReadOnlySpan<byte> timestamp) =>
        (BinaryPrimitives.ReadInt64LittleEndian(timestamp) * 1_000_000_000) + BinaryPrimitives.ReadUInt32LittleEndian(timestamp[8..]);

    [DllImport("libc", SetLastError = true, CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int statx(int dirfd, string pathname, int flags, uint mask, byte[] buffer);
}
