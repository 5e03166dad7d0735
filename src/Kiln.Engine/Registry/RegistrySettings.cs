using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text.Json.Serialization;
using Kiln.Engine.Diagnostics;
using Kiln.Oci.Registry;

namespace Kiln.Engine.Registry;

/// <summary>
/// How the engine reaches registries, handed in by the edge (which reads DOCKER_CONFIG, KILN_REGISTRY_* and the
/// MSBuild properties): the engine itself never reads the environment.
/// </summary>
public sealed record RegistrySettings
{
    /// <summary>Docker's config.json (auths, credHelpers, credsStore), or null to use none.</summary>
    public string? DockerConfigPath { get; init; }

    /// <summary>
    /// Credentials from the environment (KILN_REGISTRY_USERNAME/KILN_REGISTRY_PASSWORD), tried before config.json.
    /// Never serialised: a secret must never reach a file on disk.
    /// </summary>
    [JsonIgnore]
    public RegistryCredential? EnvironmentCredential { get; init; }

    /// <summary>The registry the environment credentials are for (KILN_REGISTRY_HOST); null means any.</summary>
    public string? EnvironmentCredentialRegistry { get; init; }

    /// <summary>Registries (host[:port]) that may be spoken to over plain HTTP; loopback always may.</summary>
    public ImmutableArray<string> InsecureRegistries { get; init; } = [];

    /// <summary>A PEM file of extra CA certificates to trust (KILN_REGISTRY_CA_FILE).</summary>
    public string? CaCertificateFile { get; init; }

    /// <summary>How long one registry operation may keep retrying (throttling and transient failures).</summary>
    public TimeSpan RetryBudget { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>The clock that waits between attempts; tests hand in a fake one. Never serialised.</summary>
    [JsonIgnore]
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>The first wait between attempts.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Upload in chunks of this many bytes above this size; 0 for single PUTs.</summary>
    public long ChunkSize { get; init; }

    /// <summary>The credential sources in the order they are tried.</summary>
    public ICredentialSource Credentials()
    {
        var sources = new List<ICredentialSource>();
        if (EnvironmentCredential is { } credential)
        {
            sources.Add(new StaticCredentials(credential, EnvironmentCredentialRegistry, "KILN_REGISTRY_USERNAME/KILN_REGISTRY_PASSWORD"));
        }
        else
        {
            sources.Add(new NoCredentials("KILN_REGISTRY_USERNAME/KILN_REGISTRY_PASSWORD (not set)"));
        }

        if (DockerConfigPath is not null)
        {
            sources.Add(new DockerConfigCredentials(DockerConfigPath));
        }

        return new CredentialChain([.. sources]);
    }

    /// <summary>A client of <paramref name="registry"/> configured from these settings.</summary>
    public RegistryClient Client(string registry, Action<TransferEvent>? observer = null, HttpMessageHandler? handler = null)
    {
        try
        {
            return new RegistryClient(registry, new RegistryClientOptions
            {
                Credentials = Credentials(),
                InsecureRegistries = InsecureRegistries,
                CaCertificateFile = CaCertificateFile,
                RetryBudget = RetryBudget,
                InitialBackoff = InitialBackoff,
                Time = Time,
                ChunkSize = ChunkSize,
                Observer = observer,
                Handler = handler,
            });
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new KilnException(DiagnosticCodes.RegistryCaFileUnreadable, $"The CA file '{CaCertificateFile}' (KILN_REGISTRY_CA_FILE) could not be read as PEM certificates: {e.Message}");
        }
    }
}

/// <summary>A place that was looked at and had nothing, named so that a 401 message lists it.</summary>
internal sealed class NoCredentials(string description) : ICredentialSource
{
    public RegistryCredential? Find(string registry) => null;

    public string Describe() => description;
}

/// <summary>Turns a registry failure into its coded message.</summary>
internal static class RegistryErrors
{
    public static KilnException ToKiln(RegistryException e, string? context = null)
    {
        var code = e.Failure switch
        {
            RegistryFailure.Unreachable => DiagnosticCodes.RegistryUnreachable,
            RegistryFailure.CredentialsMissing => DiagnosticCodes.RegistryCredentialsMissing,
            RegistryFailure.CredentialsRejected => DiagnosticCodes.RegistryCredentialsRejected,
            RegistryFailure.NotFound => DiagnosticCodes.RegistryNotFound,
            RegistryFailure.ContentMismatch => DiagnosticCodes.RegistryContentMismatch,
            RegistryFailure.CredentialSource => DiagnosticCodes.RegistryCredentialSourceFailed,
            RegistryFailure.Throttled => DiagnosticCodes.RegistryThrottled,
            _ => DiagnosticCodes.RegistryProtocolError,
        };
        return new KilnException(code, context is null ? e.Message : $"{context}: {e.Message}");
    }
}
