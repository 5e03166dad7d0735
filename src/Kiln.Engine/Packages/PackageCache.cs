using System.Security.Cryptography;
using Kiln.Engine.Diagnostics;

namespace Kiln.Engine.Packages;

/// <summary>
/// The shared download cache: files stored by their SHA-256 under <c>&lt;cache&gt;/sha256/&lt;hex&gt;</c>. A file only
/// gets there after its hash was checked against a trusted source (the signed Release, the verified index, or the
/// lock), through a temp file renamed into place, so that two builds filling the cache at once, or a crash, never
/// leave a partial or unverified file under a hash name.
/// </summary>
internal sealed class PackageCache(string directory)
{
    public string Directory { get; } = directory;

    public string PathOf(string sha256) => Path.Combine(Directory, "sha256", sha256);

    /// <summary>The cached file with this hash, re-checked (a damaged file is removed and treated as absent).</summary>
    public string? TryGet(string sha256)
    {
        var path = PathOf(sha256);
        if (!File.Exists(path))
        {
            return null;
        }

        using (var stream = File.OpenRead(path))
        {
            if (Convert.ToHexStringLower(SHA256.HashData(stream)) == sha256)
            {
                return path;
            }
        }

        TryDelete(path);
        return null;
    }

    /// <summary>A temp file in the cache's own directory (so that the final rename stays on one file system).</summary>
    public string NewTempFile()
    {
        try
        {
            var temp = Path.Combine(Directory, "tmp");
            System.IO.Directory.CreateDirectory(temp);
            return Path.Combine(temp, $"{Guid.NewGuid():N}.part");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Failed(e);
        }
    }

    /// <summary>Moves a verified temp file into place. Another build may have put the same content there first: fine.</summary>
    public string Commit(string tempFile, string sha256)
    {
        var path = PathOf(sha256);
        try
        {
            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            if (File.Exists(path))
            {
                File.Delete(tempFile);
                return path;
            }

            File.Move(tempFile, path, overwrite: true);
            return path;
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another build committed the same (verified, identical) content first, and on Windows an open file
            // cannot be replaced: theirs is as good as ours.
            TryDelete(tempFile);
            return path;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(tempFile);
            throw Failed(e);
        }
    }

    public static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A leftover temp file is harmless: it never has a hash name.
        }
    }

    private KilnException Failed(Exception e) =>
        new(DiagnosticCodes.PackageCacheFailed, $"The Kiln package cache '{Directory}' could not be written: {e.Message}. Check free space and permissions, or set KilnCacheDirectory (or KILN_CACHE) to a writable directory.");
}
