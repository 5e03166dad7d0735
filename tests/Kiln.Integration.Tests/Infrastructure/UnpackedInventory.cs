using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Xunit;

namespace Kiln.Integration.Tests.Infrastructure;

/// <summary>
/// The inventory must describe the tree an unpacker really produces: this unpacks an image with umoci
/// (<c>umoci unpack --rootless</c>) and compares the result with the image's inventory entry by entry: path, type,
/// permission bits, size, SHA-256 and symlink target. Owners are not compared (a rootless unpack owns everything),
/// nor device nodes (a rootless unpack cannot make them).
/// </summary>
internal static class UnpackedInventory
{
    /// <param name="platform">
    /// For a multi-platform image (an index), the platform (os/arch) to unpack: skopeo picks its manifest out of the
    /// index into a layout of its own first, since umoci unpacks one manifest.
    /// </param>
    public static void AssertMatchesUmoci(string layoutDirectory, string reference, string inventoryPath, string? platform = null)
    {
        var umoci = Tools.Require("umoci", "umoci");
        var bundle = Path.Combine(Path.GetTempPath(), "kiln-unpack-" + Guid.NewGuid().ToString("N")[..12]);
        var converted = bundle + "-gzip";
        var picked = bundle + "-platform";
        try
        {
            if (platform is not null)
            {
                layoutDirectory = PickPlatform(layoutDirectory, reference, platform, picked);
            }

            if (HasZstdLayers(layoutDirectory, reference))
            {
                // umoci 0.4.7 refuses tar+zstd layers by media type: skopeo (which reads them) recompresses the image
                // to gzip first, so the tree umoci unpacks still comes from Kiln's zstd bytes.
                var skopeo = Tools.Require("skopeo", "skopeo");
                var copy = ProcessRunner.Run(skopeo, ["copy", "--dest-compress-format", "gzip", $"oci:{layoutDirectory}:{reference}", $"oci:{converted}:{reference}"]);
                Assert.True(copy.ExitCode == 0, $"skopeo could not recompress the zstd image {reference}:\n{copy.Output}");
                Assert.False(HasZstdLayers(converted, reference), $"skopeo left zstd layers in {reference}");
                layoutDirectory = converted;
            }

            var unpack = ProcessRunner.Run(umoci, ["unpack", "--rootless", "--image", $"{layoutDirectory}:{reference}", bundle]);
            Assert.True(unpack.ExitCode == 0, $"umoci unpack {reference} failed:\n{unpack.Output}");
            var expected = Read(inventoryPath);
            var actual = Walk(Path.Combine(bundle, "rootfs"));
            // A rootless unpack cannot make device nodes or FIFOs (it leaves empty regular files): those entries are
            // compared by presence only.
            var special = expected.Where(e => e.Value.Type is not ('f' or 'd' or 'l')).Select(e => e.Key).ToHashSet(StringComparer.Ordinal);
            var problems = expected.Keys.Union(actual.Keys).Order(StringComparer.Ordinal)
                .Where(path => special.Contains(path)
                    ? !actual.ContainsKey(path)
                    : expected.GetValueOrDefault(path) != actual.GetValueOrDefault(path))
                .Select(path => $"{path}: inventory {expected.GetValueOrDefault(path)?.ToString() ?? "(absent)"}, unpacked {actual.GetValueOrDefault(path)?.ToString() ?? "(absent)"}")
                .ToList();
            Assert.True(problems.Count == 0, $"The inventory of {reference} differs from what umoci unpacks:\n{string.Join('\n', problems)}");
        }
        finally
        {
            if (Directory.Exists(converted))
            {
                Directory.Delete(converted, recursive: true);
            }

            if (Directory.Exists(picked))
            {
                Directory.Delete(picked, recursive: true);
            }

            if (Directory.Exists(bundle))
            {
                // A rootless unpack may leave read-only directories behind; make them writable to delete them.
                ProcessRunner.Run("chmod", ["-R", "u+rwX", bundle]);
                Directory.Delete(bundle, recursive: true);
            }
        }
    }

    /// <summary>
    /// Copies <paramref name="platform"/>'s image out of the index tagged <paramref name="reference"/> into
    /// <paramref name="destination"/> (a layout of its own, the same tag naming a plain manifest) with skopeo.
    /// </summary>
    public static string PickPlatform(string layoutDirectory, string reference, string platform, string destination)
    {
        var skopeo = Tools.Require("skopeo", "skopeo");
        var parts = platform.Split('/');
        var copy = ProcessRunner.Run(skopeo, ["copy", "--override-os", parts[0], "--override-arch", parts[1], $"oci:{layoutDirectory}:{reference}", $"oci:{destination}:{reference}"]);
        Assert.True(copy.ExitCode == 0, $"skopeo could not copy {platform} out of {reference}:\n{copy.Output}");
        return destination;
    }

    /// <summary>True when the image <paramref name="reference"/> (its first platform) has a tar+zstd layer.</summary>
    private static bool HasZstdLayers(string layoutDirectory, string reference)
    {
        var layout = Kiln.Oci.OciLayout.Open(layoutDirectory);
        var descriptor = layout.ReadIndex().Manifests.First(m => m.RefName == reference);
        var (_, manifest) = layout.ResolveManifest(descriptor);
        return manifest.Layers.Any(l => l.MediaType == Kiln.Oci.MediaTypes.LayerTarZstd);
    }

    /// <summary>One entry as both sides can tell it.</summary>
    private sealed record Entry(char Type, int Mode, long Size, string Sha256, string Link)
    {
        public override string ToString() => $"{Type} {Convert.ToString(Mode, 8)} {Size} {Sha256[..Math.Min(12, Sha256.Length)]} {Link}";
    }

    private static Dictionary<string, Entry> Read(string inventoryPath)
    {
        var entries = new Dictionary<string, Entry>(StringComparer.Ordinal);
        foreach (var line in File.ReadAllLines(inventoryPath).Where(l => !l.StartsWith('#') && l.Length > 0))
        {
            var f = line.Split('\t');
            var path = Unescape(f[0]);
            if (path == "/")
            {
                continue;
            }

            var type = f[1][0];
            var mode = type == 'l' ? 0 : Convert.ToInt32(f[2], 8);
            entries[path] = type switch
            {
                'f' => new Entry('f', mode, long.Parse(f[5], CultureInfo.InvariantCulture), f[6], "-"),
                'l' => new Entry('l', 0, 0, "-", Unescape(f[7])),
                _ => new Entry(type, mode, 0, "-", "-"),
            };
        }

        return entries;
    }

    private static Dictionary<string, Entry> Walk(string rootfs)
    {
        var entries = new Dictionary<string, Entry>(StringComparer.Ordinal);
        Walk(rootfs, new DirectoryInfo(rootfs), entries);
        return entries;
    }

    // By hand rather than with RecurseSubdirectories: the enumerator descends into symlinked directories, and an
    // absolute link (/usr/lib/ssl/certs -> /etc/ssl/certs) would then read the host's files instead of the image's.
    private static void Walk(string rootfs, DirectoryInfo directory, Dictionary<string, Entry> entries)
    {
        var options = new EnumerationOptions { RecurseSubdirectories = false, AttributesToSkip = 0, IgnoreInaccessible = false };
        foreach (var info in directory.EnumerateFileSystemInfos("*", options))
        {
            var path = "/" + Path.GetRelativePath(rootfs, info.FullName).Replace('\\', '/');
            if (info.LinkTarget is { } target)
            {
                entries[path] = new Entry('l', 0, 0, "-", target);
            }
            else if (info is DirectoryInfo subdirectory)
            {
                entries[path] = new Entry('d', (int)File.GetUnixFileMode(info.FullName), 0, "-", "-");
                Walk(rootfs, subdirectory, entries);
            }
            else
            {
                using var stream = File.OpenRead(info.FullName);
                var sha = Convert.ToHexStringLower(SHA256.HashData(stream));
                entries[path] = new Entry('f', (int)File.GetUnixFileMode(info.FullName), stream.Length, sha, "-");
            }
        }
    }

    private static string Unescape(string value)
    {
        var text = new StringBuilder();
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == '\\' && i + 1 < value.Length)
            {
                i++;
                text.Append(value[i] switch { 't' => '\t', 'n' => '\n', _ => value[i] });
            }
            else
            {
                text.Append(value[i]);
            }
        }

        return text.ToString();
    }
}
