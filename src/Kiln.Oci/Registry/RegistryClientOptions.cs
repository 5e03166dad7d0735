using System.Net;

namespace Kiln.Oci.Registry;

/// <summary>What a blob transfer did; reported to <see cref="RegistryClientOptions.Observer"/>.</summary>
public enum TransferKind
{
    /// <summary>The registry already had the blob; nothing was sent.</summary>
    Exists,

    /// <summary>The blob was mounted from another repository of the same registry; nothing was sent.</summary>
    Mounted,

    /// <summary>Bytes of an upload went out (<see cref="TransferEvent.Done"/> so far).</summary>
    Uploading,

    /// <summary>An upload completed.</summary>
    Uploaded,

    /// <summary>Bytes of a download came in.</summary>
    Downloading,

    /// <summary>A download completed and was verified.</summary>
    Downloaded,
}

/// <summary>One step of a blob transfer.</summary>
public sealed record TransferEvent(TransferKind Kind, string Repository, Digest Digest, long Size, long Done);

/// <summary>How a <see cref="RegistryClient"/> connects, authenticates and retries. Everything comes in from the caller.</summary>
public sealed record RegistryClientOptions
{
    /// <summary>Where credentials come from; by default nowhere (anonymous).</summary>
    public ICredentialSource Credentials { get; init; } = new CredentialChain();

    /// <summary>Registries (host[:port]) that may be spoken to over plain HTTP; loopback always may.</summary>
    public IReadOnlyCollection<string> InsecureRegistries { get; init; } = [];

    /// <summary>A PEM file of extra CA certificates to trust for registries (e.g. a private registry's own CA).</summary>
    public string? CaCertificateFile { get; init; }

    /// <summary>
    /// How long one operation may keep retrying 408, 429, 5xx, timeouts and refused connections (see
    /// <see cref="Kiln.Oci.Http.RetryStrategy"/>); a registry's Retry-After is waited out within it.
    /// </summary>
    public TimeSpan RetryBudget { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>The first backoff; each retry doubles it up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The longest backoff Kiln chooses itself (a registry's Retry-After may ask for longer, within the budget).</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The timeout of one HTTP request (a whole blob transfer counts as one).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Blobs larger than this are uploaded in chunks of this size (PATCH); 0 uploads every blob in one PUT.</summary>
    public long ChunkSize { get; init; }

    /// <summary>The clock that waits between attempts and measures the retry budget.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Receives transfer progress (called from the transferring thread).</summary>
    public Action<TransferEvent>? Observer { get; init; }

    /// <summary>The HTTP handler to send through (tests wrap it to count bytes); by default a SocketsHttpHandler.</summary>
    public HttpMessageHandler? Handler { get; init; }

    /// <summary>Whether <paramref name="registry"/> may use plain HTTP: loopback, or listed as insecure.</summary>
    public bool AllowsPlainHttp(string registry)
    {
        if (InsecureRegistries.Contains(registry, StringComparer.OrdinalIgnoreCase))
        {
            return true;
        }

        var host = registry;
        if (host.StartsWith('['))
        {
            host = host[1..host.IndexOf(']')];
        }
        else if (host.LastIndexOf(':') is var colon and > 0)
        {
            host = host[..colon];
        }

        return host == "localhost" || (IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address));
    }
}
