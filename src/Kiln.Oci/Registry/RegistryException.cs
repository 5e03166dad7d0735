using System.Net;

namespace Kiln.Oci.Registry;

/// <summary>What went wrong talking to a registry; the engine maps each kind to a KILN1xxx code.</summary>
public enum RegistryFailure
{
    /// <summary>The registry could not be reached (connection refused, DNS, timeout, TLS) after retries.</summary>
    Unreachable,

    /// <summary>The registry wants credentials and none were found.</summary>
    CredentialsMissing,

    /// <summary>The registry refused the credentials given (401/403).</summary>
    CredentialsRejected,

    /// <summary>The manifest or blob does not exist (404).</summary>
    NotFound,

    /// <summary>Content did not match its digest or size.</summary>
    ContentMismatch,

    /// <summary>The registry answered something the distribution spec does not allow, or a status we cannot handle.</summary>
    Protocol,

    /// <summary>The registry kept throttling (429, or 503 with Retry-After) for longer than the retry budget.</summary>
    Throttled,

    /// <summary>A credential source (config.json, a docker-credential helper) could not be read.</summary>
    CredentialSource,
}

/// <summary>
/// A registry operation failed. Messages name the registry and repository, never a credential: callers may log them.
/// </summary>
public sealed class RegistryException : Exception
{
    /// <summary>Creates the exception.</summary>
    public RegistryException(RegistryFailure failure, string registry, string message, HttpStatusCode? status = null, Exception? inner = null)
        : base(message, inner)
    {
        Failure = failure;
        Registry = registry;
        Status = status;
    }

    /// <summary>The kind of failure.</summary>
    public RegistryFailure Failure { get; }

    /// <summary>The registry host.</summary>
    public string Registry { get; }

    /// <summary>The HTTP status, when there was one.</summary>
    public HttpStatusCode? Status { get; }
}
