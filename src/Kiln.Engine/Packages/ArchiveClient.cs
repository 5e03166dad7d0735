using System.Net;
using System.Security.Cryptography;
using Kiln.Engine.Diagnostics;

namespace Kiln.Engine.Packages;

/// <summary>
/// Fetches files from a Debian mirror. Files with a known hash go through the cache and are verified before they
/// are committed to it; a short or corrupt transfer is retried, and after the last attempt reported (KILN1041), as
/// is a mirror that cannot be reached (KILN1040).
/// </summary>
internal sealed class ArchiveClient(Uri mirror, PackageCache cache, HttpClient http, int attempts = 3)
{
    public Uri Mirror { get; } = mirror;

    /// <summary>Downloads a file whose hash is not known in advance (InRelease); kept in memory, never cached.</summary>
    public byte[]? GetBytes(string relative)
    {
        var uri = new Uri(Mirror, relative);
        Exception? last = null;
        for (var attempt = 1; attempt <= attempts; attempt++)
        {
            try
            {
                using var response = http.GetAsync(uri, HttpCompletionOption.ResponseContentRead).GetAwaiter().GetResult();
                if (response.StatusCode == HttpStatusCode.NotFound)
                {
                    return null;
                }

                response.EnsureSuccessStatusCode();
                return response.Content.ReadAsByteArrayAsync().GetAwaiter().GetResult();
            }
            catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException)
            {
                last = e;
                Backoff(attempt);
            }
        }

        throw Unreachable(uri, last!);
    }

    /// <summary>
    /// Downloads a file into a temp file of the cache and checks it against size and hash; the caller commits it
    /// to the cache (once everything a build needs has verified) or deletes it.
    /// </summary>
    /// <param name="mismatchCode">The code for content that arrived whole but with the wrong hash.</param>
    public string Download(string relative, string sha256, long size, string mismatchCode, string what)
    {
        var uri = new Uri(Mirror, relative);
        Exception? last = null;
        string? problem = null;
        for (var attempt = 1; attempt <= attempts; attempt++)
        {
            var temp = cache.NewTempFile();
            try
            {
                using var response = http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead).GetAwaiter().GetResult();
                response.EnsureSuccessStatusCode();
                long length;
                string actual;
                using (var source = response.Content.ReadAsStream())
                using (var target = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
                using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
                {
                    var buffer = new byte[81920];
                    for (int read; (read = source.Read(buffer)) > 0;)
                    {
                        hash.AppendData(buffer, 0, read);
                        target.Write(buffer, 0, read);
                    }

                    length = target.Length;
                    actual = Convert.ToHexStringLower(hash.GetHashAndReset());
                }

                if (size >= 0 && length != size)
                {
                    problem = $"received {length} of {size} bytes";
                    PackageCache.TryDelete(temp);
                    Backoff(attempt);
                    continue;
                }

                if (actual != sha256)
                {
                    PackageCache.TryDelete(temp);
                    throw new KilnException(mismatchCode, $"{what} from '{uri}' has SHA-256 {actual}, but the signed index says {sha256}. Nothing was cached. The mirror (or a proxy in between) serves altered content: use another mirror (KilnDebianMirror).");
                }

                return temp;
            }
            catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException)
            {
                PackageCache.TryDelete(temp);
                last = e;
                problem = e.Message;
                Backoff(attempt);
            }
        }

        if (last is HttpRequestException { StatusCode: not null } http404)
        {
            throw new KilnException(DiagnosticCodes.PackageDownloadFailed, $"{what} could not be downloaded from '{uri}' after {attempts} attempts: {http404.Message}. Check that the mirror (KilnDebianMirror) serves the suite, or update the lock (KilnUpdateLock=true) if the package was replaced.");
        }

        if (last is not null && problem == last.Message && last is HttpRequestException)
        {
            throw Unreachable(uri, last);
        }

        throw new KilnException(DiagnosticCodes.PackageDownloadIncomplete, $"{what} from '{uri}' arrived incomplete {attempts} times ({problem}). Nothing was cached. Check the network or proxy, then build again.");
    }

    private KilnException Unreachable(Uri uri, Exception e) =>
        new(DiagnosticCodes.PackageDownloadFailed, $"The Debian mirror could not be reached at '{uri}' after {attempts} attempts: {e.Message}. Check the network, or set KilnDebianMirror to a reachable mirror. A build whose packages are locked and cached needs no network.");

    private static void Backoff(int attempt) => Thread.Sleep(TimeSpan.FromMilliseconds(200 * attempt));
}
