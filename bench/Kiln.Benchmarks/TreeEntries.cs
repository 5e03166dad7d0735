using Kiln.Oci;

namespace Kiln.Benchmarks;

internal static class TreeEntries
{
    /// <summary>Every directory, file and symlink under <paramref name="root"/>, mapped to "/" in the image.
    /// Modes are the canonical ones (0755 directories, 0644 files), owner 0:0, as a spec without overrides gives.</summary>
    public static IEnumerable<LayerEntry> FromDirectory(string root)
    {
        root = Path.GetFullPath(root);
        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = false };
        foreach (var info in new DirectoryInfo(root).EnumerateFileSystemInfos("*", options))
        {
            string path = "/" + Path.GetRelativePath(root, info.FullName).Replace('\\', '/');
            if (info.LinkTarget is { } target)
            {
                yield return LayerEntry.Symlink(path, target);
            }
            else if (info is DirectoryInfo)
            {
                yield return LayerEntry.Directory(path);
            }
            else
            {
                yield return LayerEntry.FileFrom(path, info.FullName);
            }
        }
    }

    /// <summary>A mixed tree like a published .NET app: compressible text, incompressible binary, many small files.</summary>
    public static void Generate(string root, int scaleMegabytes)
    {
        var random = new Random(20240601);
        Directory.CreateDirectory(root);
        int bigFiles = Math.Max(1, scaleMegabytes / 8);
        for (int i = 0; i < bigFiles; i++)
        {
            string dir = Path.Combine(root, "bin", $"d{i % 7}");
            Directory.CreateDirectory(dir);
            byte[] data = new byte[2 << 20];
            random.NextBytes(data);
            File.WriteAllBytes(Path.Combine(dir, $"blob{i}.bin"), data);
            File.WriteAllText(Path.Combine(dir, $"log{i}.txt"), MakeText(random, 2 << 20));
        }

        for (int i = 0; i < scaleMegabytes * 10; i++)
        {
            string dir = Path.Combine(root, "wwwroot", $"s{i % 31}");
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, $"f{i}.json"), MakeText(random, 200 + random.Next(4000)));
        }
    }

    private static string MakeText(Random random, int length)
    {
        string[] words = ["kiln", "image", "layer", "digest", "manifest", "config", "the", "a", "server", "deterministic", "tar", "gzip", "2024-06-01T12:00:00Z", "INFO", "WARN", "{\"id\":", "}"];
        var builder = new System.Text.StringBuilder(length + 32);
        while (builder.Length < length)
        {
            builder.Append(words[random.Next(words.Length)]).Append(random.Next(10) == 0 ? '\n' : ' ');
            if (random.Next(20) == 0)
            {
                builder.Append(random.Next(1_000_000));
            }
        }

        return builder.ToString(0, length);
    }
}
