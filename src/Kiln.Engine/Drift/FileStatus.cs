using System.Runtime.InteropServices;

namespace Kiln.Engine.Drift;

/// <summary>What lstat says about a path: type, permission bits, owner, size.</summary>
internal readonly record struct FileStatus(char Type, int Mode, long Uid, long Gid, long Size)
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxBasicStats = 0x7FF;

    /// <summary>
    /// statx(2) without following symlinks. .NET has no managed API for a file's owner; statx's buffer layout, unlike
    /// struct stat's, is the same on every Linux architecture, so one declaration serves x64 and arm64.
    /// </summary>
    public static FileStatus Read(string path)
    {
        var buffer = new byte[256];
        if (Statx(AtFdCwd, path, AtSymlinkNoFollow, StatxBasicStats, buffer) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw errno == 2
                ? new FileNotFoundException($"'{path}' disappeared while it was being checked.", path)
                : new IOException($"statx '{path}' failed with errno {errno}.");
        }

        var uid = BitConverter.ToUInt32(buffer, 20);
        var gid = BitConverter.ToUInt32(buffer, 24);
        var mode = BitConverter.ToUInt16(buffer, 28);
        var size = (long)BitConverter.ToUInt64(buffer, 40);
        var type = (mode & 0xF000) switch
        {
            0x8000 => 'f',
            0x4000 => 'd',
            0xA000 => 'l',
            _ => 's',
        };
        return new FileStatus(type, mode & 0xFFF, uid, gid, size);
    }

    [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
    private static extern int Statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, byte[] buffer);
}
