using System.Runtime.InteropServices;

namespace Kiln.Engine.IO;

/// <summary>What a path on disk is, as <c>lstat</c> sees it (a symlink is reported as itself, never followed).</summary>
internal enum InputFileType
{
    Missing,
    Regular,
    Directory,
    Symlink,
    Fifo,
    Socket,
    CharacterDevice,
    BlockDevice,
    Other,
}

/// <summary>
/// Classifies a path without opening it. Opening a FIFO blocks until a writer appears and reading a device never ends,
/// so the type has to be known before anything touches the content.
/// </summary>
internal static partial class InputFileTypes
{
    /// <summary>The type of <paramref name="path"/> itself (symlinks are not followed).</summary>
    public static InputFileType Of(string path)
    {
        var info = new FileInfo(path);
        if (info.LinkTarget is not null)
        {
            return InputFileType.Symlink;
        }

        if (!info.Exists)
        {
            return Directory.Exists(path) ? InputFileType.Directory : InputFileType.Missing;
        }

        return OperatingSystem.IsWindows() ? InputFileType.Regular : UnixType(path);
    }

    /// <summary>A human description for messages ("a FIFO (named pipe)").</summary>
    public static string Describe(InputFileType type) => type switch
    {
        InputFileType.Fifo => "a FIFO (named pipe)",
        InputFileType.Socket => "a socket",
        InputFileType.CharacterDevice => "a character device",
        InputFileType.BlockDevice => "a block device",
        InputFileType.Directory => "a directory",
        InputFileType.Symlink => "a symbolic link",
        InputFileType.Regular => "a regular file",
        InputFileType.Missing => "missing",
        _ => "not a regular file",
    };

    /// <summary>
    /// The BCL reports FIFOs, sockets and devices as plain files (<see cref="FileAttributes.Normal"/>), so the type bits
    /// come from the runtime's own native shim, the one <see cref="FileSystemInfo"/> itself calls on every Unix: its
    /// <c>FileStatus</c> begins with two 32-bit fields, Flags then Mode, and Mode carries the <c>S_IFMT</c> bits in the
    /// platform-independent encoding below. Only that prefix is read, into a buffer larger than the whole struct.
    /// </summary>
    private static InputFileType UnixType(string path)
    {
        var status = new byte[512];
        int result;
        try
        {
            result = SystemNativeLStat(path, status);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // A runtime without the shim: FileInfo already said it exists and is not a directory or a link.
            return InputFileType.Regular;
        }

        if (result != 0)
        {
            return InputFileType.Missing;
        }

        var mode = BitConverter.ToInt32(status, 4);
        return (mode & 0xF000) switch
        {
            0x8000 => InputFileType.Regular,
            0x4000 => InputFileType.Directory,
            0xA000 => InputFileType.Symlink,
            0x1000 => InputFileType.Fifo,
            0xC000 => InputFileType.Socket,
            0x2000 => InputFileType.CharacterDevice,
            0x6000 => InputFileType.BlockDevice,
            _ => InputFileType.Other,
        };
    }

    [DllImport("libSystem.Native", EntryPoint = "SystemNative_LStat", ExactSpelling = true)]
    private static extern int SystemNativeLStat([MarshalAs(UnmanagedType.LPUTF8Str)] string path, byte[] status);
}
