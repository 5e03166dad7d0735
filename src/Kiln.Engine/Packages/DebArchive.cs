using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using Kiln.Engine.Diagnostics;
using Kiln.Oci;

namespace Kiln.Engine.Packages;

/// <summary>A file of a package's data archive, ready to go into a layer.</summary>
internal sealed record DebFile(string Path, TarEntryType Type, int Mode, int Uid, int Gid, byte[]? Content, string? LinkTarget);

/// <summary>
/// Reads a .deb (an ar archive of debian-binary, control.tar.* and data.tar.*; deb(5)) without running anything:
/// the control paragraph and the data archive's entries, decompressed from xz, zstd or gzip.
/// </summary>
internal sealed class DebArchive
{
    private DebArchive(string control, List<DebFile> files)
    {
        Control = control;
        Files = files;
    }

    /// <summary>The package's control file (DEBIAN/control), as written.</summary>
    public string Control { get; }

    public IReadOnlyList<DebFile> Files { get; }

    public static DebArchive Read(string path, string display)
    {
        try
        {
            using var stream = File.OpenRead(path);
            string? control = null;
            List<DebFile>? files = null;
            foreach (var (name, content) in ArMembers(stream))
            {
                if (name.StartsWith("control.tar", StringComparison.Ordinal))
                {
                    control = ReadControl(Decompress(name, content));
                }
                else if (name.StartsWith("data.tar", StringComparison.Ordinal))
                {
                    files = ReadData(Decompress(name, content));
                }
            }

            if (control is null || files is null)
            {
                throw new InvalidDataException("it has no control.tar or data.tar member");
            }

            return new DebArchive(control, files);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or FormatException or NotSupportedException or ArgumentException
            or OverflowException or InvalidOperationException or SharpCompress.Common.SharpCompressException)
        {
            // System.Formats.Tar reports some malformed headers with OverflowException and InvalidOperationException;
            // SharpCompress reports corrupt xz and zstd data with its own exceptions.
            throw new KilnException(DiagnosticCodes.PackageArchiveInvalid, $"The package file '{display}' could not be read as a .deb: {e.Message}. Its hash matched the signed index, so the archive itself is unusual; report it with the package name and version.");
        }
    }

    private static IEnumerable<(string Name, byte[] Content)> ArMembers(Stream stream)
    {
        var magic = new byte[8];
        stream.ReadExactly(magic);
        if (Encoding.ASCII.GetString(magic) != "!<arch>\n")
        {
            throw new InvalidDataException("it is not an ar archive");
        }

        var header = new byte[60];
        while (stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false) == header.Length)
        {
            var name = Encoding.ASCII.GetString(header, 0, 16).Trim().TrimEnd('/');
            var sizeText = Encoding.ASCII.GetString(header, 48, 10).Trim();
            if (!long.TryParse(sizeText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var size)
                || size > stream.Length - stream.Position)
            {
                // Checked before allocating: the header's size is the archive's claim, not a fact.
                throw new InvalidDataException($"its member '{name}' declares a size of '{sizeText}' bytes, more than the file holds");
            }

            var content = new byte[size];
            stream.ReadExactly(content);
            if (size % 2 == 1)
            {
                stream.ReadByte();
            }

            yield return (name, content);
        }
    }

    private static Stream Decompress(string name, byte[] content)
    {
        var raw = new MemoryStream(content, writable: false);
        return Path.GetExtension(name) switch
        {
            ".xz" => new SharpCompress.Compressors.Xz.XZStream(raw),
            ".zst" => new SharpCompress.Compressors.ZStandard.DecompressionStream(raw),
            ".gz" => new GZipStream(raw, CompressionMode.Decompress),
            ".tar" => raw,
            var other => throw new NotSupportedException($"member '{name}' is compressed with '{other}', which Kiln does not read (xz, zstd, gzip)"),
        };
    }

    private static string ReadControl(Stream tar)
    {
        using var reader = new TarReader(new TarInputGuard(tar));
        while (reader.GetNextEntry() is { } entry)
        {
            if (entry.Name.TrimStart('.', '/') == "control" && entry.DataStream is { } data)
            {
                using var text = new StreamReader(data, Encoding.UTF8);
                return text.ReadToEnd();
            }
        }

        throw new InvalidDataException("its control.tar has no control file");
    }

    private static List<DebFile> ReadData(Stream tar)
    {
        var files = new List<DebFile>();
        using var reader = new TarReader(new TarInputGuard(tar));
        while (reader.GetNextEntry() is { } entry)
        {
            var path = "/" + entry.Name.TrimStart('.').TrimStart('/').TrimEnd('/');
            if (path == "/")
            {
                continue;
            }

            byte[]? content = null;
            if (entry.DataStream is { } data && entry.EntryType is TarEntryType.RegularFile or TarEntryType.V7RegularFile)
            {
                using var buffer = new MemoryStream();
                data.CopyTo(buffer);
                content = buffer.ToArray();
            }

            var link = entry.EntryType == TarEntryType.HardLink ? "/" + entry.LinkName.TrimStart('.').TrimStart('/') : entry.LinkName;
            files.Add(new DebFile(path, entry.EntryType, (int)entry.Mode, entry.Uid, entry.Gid, content, string.IsNullOrEmpty(link) ? null : link));
        }

        return files;
    }
}
