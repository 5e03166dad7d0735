using System.Text;
using Kiln.Oci;

namespace Kiln.Integration.Tests.Infrastructure;

/// <summary>
/// Base images whose single layer is written byte by byte (ustar headers built here, not by a tar library that
/// might refuse or tidy them), each holding one trick a hostile base would play on an unpacker.
/// </summary>
internal static class HostileLayouts
{
    public const string Reference = "evil:1";

    /// <summary>A regular file entry named <c>../escape.txt</c>.</summary>
    public static void Escape(string layoutDirectory) => Create(layoutDirectory, tar =>
    {
        Entry(tar, "./", '5', 0x1ED);
        Entry(tar, "../escape.txt", '0', 0x1A4, "escaped\n"u8.ToArray());
    });

    /// <summary>A hard link to <c>../../etc/passwd</c>.</summary>
    public static void HardLinkOut(string layoutDirectory) => Create(layoutDirectory, tar =>
    {
        Entry(tar, "app/", '5', 0x1ED);
        Entry(tar, "app/passwd", '1', 0x1A4, linkName: "../../etc/passwd");
    });

    /// <summary>A symlink <c>app -> /</c>, then <c>app/etc/x</c>: a write through the link.</summary>
    public static void WriteThroughSymlink(string layoutDirectory) => Create(layoutDirectory, tar =>
    {
        Entry(tar, "app", '2', 0x1FF, linkName: "/");
        Entry(tar, "app/etc/x", '0', 0x1A4, "through the link\n"u8.ToArray());
    });

    /// <summary>A block device node <c>dev/sda</c> (8, 0).</summary>
    public static void Device(string layoutDirectory) => Create(layoutDirectory, tar =>
    {
        Entry(tar, "dev/", '5', 0x1ED);
        Entry(tar, "dev/sda", '4', 0x1B0, devMajor: 8);
    });

    private static void Create(string layoutDirectory, Action<Stream> entries)
    {
        using var tar = new MemoryStream();
        entries(tar);
        tar.Write(new byte[1024]); // two zero blocks end the archive
        var layout = OciLayout.OpenOrCreate(layoutDirectory);
        var layer = layout.WriteBlob(tar.ToArray(), MediaTypes.LayerTar);
        var config = new ImageConfig
        {
            Created = "1970-01-01T00:00:00Z",
            Config = new ContainerConfig { Env = ["PATH=/bin"] },
            DiffIds = [layer.Digest],
            History = [new HistoryEntry { Created = "1970-01-01T00:00:00Z", CreatedBy = "hand-written hostile layer" }],
        };
        var configDescriptor = layout.WriteBlob(config.ToJson(), MediaTypes.ImageConfig);
        var manifest = new ImageManifest { Config = configDescriptor, Layers = [layer] };
        layout.Tag(Reference, layout.WriteBlob(manifest.ToJson(), MediaTypes.ImageManifest));
    }

    /// <summary>One ustar entry: a 512-byte header (POSIX.1-1988 field layout) and the content padded to 512.</summary>
    private static void Entry(Stream tar, string name, char type, int mode, byte[]? content = null, string linkName = "", int devMajor = 0)
    {
        content ??= [];
        var header = new byte[512];
        Field(header, 0, 100, name);
        Octal(header, 100, 8, mode);
        Octal(header, 108, 8, 0);
        Octal(header, 116, 8, 0);
        Octal(header, 124, 12, content.Length);
        Octal(header, 136, 12, 0);
        header[156] = (byte)type;
        Field(header, 157, 100, linkName);
        Field(header, 257, 6, "ustar\0");
        Field(header, 263, 2, "00");
        Octal(header, 329, 8, devMajor);
        Octal(header, 337, 8, 0);

        // The checksum is computed with its own field read as eight spaces.
        Field(header, 148, 8, "        ");
        var sum = header.Sum(b => b);
        Field(header, 148, 8, Convert.ToString(sum, 8).PadLeft(6, '0') + "\0 ");
        tar.Write(header);
        tar.Write(content);
        tar.Write(new byte[(512 - (content.Length % 512)) % 512]);
    }

    private static void Field(byte[] header, int offset, int length, string value)
    {
        var bytes = Encoding.ASCII.GetBytes(value);
        if (bytes.Length > length)
        {
            throw new ArgumentException($"'{value}' does not fit in {length} bytes.", nameof(value));
        }

        bytes.CopyTo(header, offset);
    }

    private static void Octal(byte[] header, int offset, int length, long value) =>
        Field(header, offset, length, Convert.ToString(value, 8).PadLeft(length - 1, '0') + "\0");
}
