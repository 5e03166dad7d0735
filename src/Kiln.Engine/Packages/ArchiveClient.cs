using System.Net;
using Kiln.Engine.Diagnostics;
using Kiln.Oci.Http;

namespace Kiln.Engine.Packages;

/// <summary>
/// Fetches files from a Debian mirror, retrying with the one <see cref="RetryStrategy"/> of Kiln's HTTP clients:
/// transient failures (refused or broken connections, timeouts, 408, 429, 5xx, a short transfer) are retried within the
/// retry budget, and after it reported (KILN1041 for a file that kept arriving short, else KILN1040); a permanent answer
/// (404, 403…) is reported at once. Files with a known hash go through the cache and are verified before they are
/// committed to it.
/// </summary>
internal sealed class ArchiveClient(Uri mirror, PackageCache cache, HttpClient http, RetryOptions? retry = null)
{
    private readonly RetryStrategy _retry = new(retry);

    public Uri Mirror { get; } = mirror;

    /// <summary>Downloads a file whose hash is not known in advance (InRelease); kept in memory, never cached. Null when the mirror has no such file.</summary>
    public async Task<byte[]?> GetBytesAsync(string relative, CancellationToken cancellationToken = default)
    {
        var uri = new Uri(Mirror, relative);
        try
        {
            return await _retry.ExecuteAsync(async ct =>
            {
                using var response = await http.GetAsync(uri, HttpCompletionOption.ResponseContentRead, ct).ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.NotFound)
                {
                    return null;
                }

                Check(response, uri, relative);
                return await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (RetryBudgetExhaustedException e)
        {
            throw GaveUp(uri, e);
        }
    }

    /// <summary>
    /// Downloads a file into a temp file of the cache (flushed to disk) and checks it against size and hash; the caller
    /// commits it to the cache (once everything a build needs has verified) or deletes it.
    /// </summary>
    /// <param name="mismatchCode">The code for content that arrived whole but with the wrong hash.</param>
    public async Task<string> DownloadAsync(string relative, string sha256, long size, string mismatchCode, string what, CancellationToken cancellationToken = default)
    {
        var uri = new Uri(Mirror, relative);
        try
        {
            return await _retry.ExecuteAsync(async ct =>
            {
                var temp = cache.NewTempFile();
                try
                {
                    using var response = await http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
                    Check(response, uri, what);
                    long length;
                    string actual;
                    try
                    {
                        await using var source = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
                        var target = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None);
                        await using (target.ConfigureAwait(false))
                        {
                            (length, var digest) = await DigestCopy.CopyAsync(source, target, cancellationToken: ct).ConfigureAwait(false);
                            actual = digest.Encoded;
                            AtomicFile.Seal(target);
                        }
                    }
                    catch (Exception e) when (e is IOException or HttpRequestException && !ct.IsCancellationRequested)
                    {
                        // The mirror answered and then the body broke off: an incomplete transfer, not an unreachable mirror.
                        throw new RetryableException($"the transfer broke off ({e.Message})", inner: e);
                    }

                    if (size >= 0 && length != size)
                    {
                        throw new RetryableException($"received {length} of {size} bytes");
                    }

                    if (actual != sha256)
                    {
                        throw new KilnException(mismatchCode, $"{what} from '{uri}' has SHA-256 {actual}, but the signed index says {sha256}. Nothing was cached. The mirror (or a proxy in between) serves altered content: use another mirror (KilnDebianMirror).");
                    }

                    return temp;
                }
                catch
                {
                    PackageCache.TryDelete(temp);
                    throw;
                }
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (RetryBudgetExhaustedException e) when (e.Last is RetryableException { Status: null } incomplete)
        {
            throw new KilnException(DiagnosticCodes.PackageDownloadIncomplete, $"{what} from '{uri}' arrived incomplete {e.Attempts} times ({incomplete.Message}). Nothing was cached. Check the network or proxy, then build again.");
        }
        catch (RetryBudgetExhaustedException e)
        {
            throw GaveUp(uri, e);
        }
    }

    /// <summary>A transient status is retried; any other failure is final, and said so at once.</summary>
    private void Check(HttpResponseMessage response, Uri uri, string what)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        if (RetryStrategy.IsTransient(response.StatusCode))
        {
            throw new RetryableException($"HTTP {(int)response.StatusCode}", response.StatusCode, RetryStrategy.RetryAfter(response, _retry.Options.Time));
        }

        throw new KilnException(DiagnosticCodes.PackageDownloadFailed, $"{what} could not be downloaded from '{uri}': the mirror answered {(int)response.StatusCode} ({response.ReasonPhrase}). Check that the mirror (KilnDebianMirror) serves the suite, or update the lock (KilnUpdateLock=true) if the package was replaced.");
    }

    private KilnException GaveUp(Uri uri, RetryBudgetExhaustedException e) => e.Throttled
        ? new(DiagnosticCodes.PackageDownloadFailed, $"The Debian mirror throttled Kiln's requests for '{uri}' ({e.Last.Message}) for longer than the retry budget of {_retry.Options.Budget.TotalSeconds:0.#} s ({e.Attempts} attempts). Wait and build again, or set KilnDebianMirror to another mirror.")
        : new(DiagnosticCodes.PackageDownloadFailed, $"The Debian mirror could not be reached at '{uri}' after {e.Attempts} attempts in {e.Elapsed.TotalSeconds:0.#} s: {e.Last.Message}. Check the network, or set KilnDebianMirror to a reachable mirror. A build whose packages are locked and cached needs no network.");
}
