using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Kiln.Oci.Registry;

/// <summary>A user name and secret for one registry. <see cref="ToString"/> never shows the secret.</summary>
/// <param name="IdentityToken">An OAuth2 refresh token (config.json's identitytoken), used instead of a password.</param>
public sealed record RegistryCredential(string Username, string Secret, bool IdentityToken = false)
{
    /// <inheritdoc />
    public override string ToString() => $"RegistryCredential {{ Username = {Username}, Secret = *** }}";
}

/// <summary>Finds credentials for a registry host. One method, so that sources compose (see <see cref="CredentialChain"/>).</summary>
public interface ICredentialSource
{
    /// <summary>Credentials for <paramref name="registry"/>, or null when this source has none.</summary>
    RegistryCredential? Find(string registry);

    /// <summary>Where this source looks, for error messages (never its content).</summary>
    string Describe();
}

/// <summary>The first source that has credentials wins.</summary>
public sealed class CredentialChain(params ICredentialSource[] sources) : ICredentialSource
{
    /// <inheritdoc />
    public RegistryCredential? Find(string registry) => sources.Select(s => s.Find(registry)).FirstOrDefault(c => c is not null);

    /// <inheritdoc />
    public string Describe() => sources.Length == 0 ? "nowhere" : string.Join("; ", sources.Select(s => s.Describe()));
}

/// <summary>
/// Credentials handed in explicitly, e.g. from KILN_REGISTRY_USERNAME/KILN_REGISTRY_PASSWORD in CI. With no
/// registry given they apply to every registry.
/// </summary>
public sealed class StaticCredentials(RegistryCredential credential, string? registry, string description) : ICredentialSource
{
    /// <inheritdoc />
    public RegistryCredential? Find(string registry1) =>
        registry is null || string.Equals(registry, registry1, StringComparison.OrdinalIgnoreCase) ? credential : null;

    /// <inheritdoc />
    public string Describe() => description;
}

/// <summary>
/// Docker's config.json (https://docs.docker.com/reference/cli/docker/#docker-cli-configuration-file-configjson-properties):
/// <c>credHelpers</c> per registry, then <c>auths</c> (base64 user:password or identitytoken), then the default
/// <c>credsStore</c>; helpers are run with the docker-credential-helpers protocol (<c>get</c>, the server URL on stdin).
/// </summary>
public sealed class DockerConfigCredentials(string configPath, Func<string, string, string?>? runHelper = null) : ICredentialSource
{
    private readonly Func<string, string, string?> _runHelper = runHelper ?? RunHelper;

    /// <summary>The config file under a Docker config directory (DOCKER_CONFIG, or ~/.docker).</summary>
    public static string PathIn(string directory) => System.IO.Path.Combine(directory, "config.json");

    /// <inheritdoc />
    public string Describe() => $"{configPath} (auths, credHelpers, credsStore)";

    /// <inheritdoc />
    public RegistryCredential? Find(string registry)
    {
        if (!File.Exists(configPath))
        {
            return null;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllBytes(configPath));
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            throw new RegistryException(RegistryFailure.CredentialSource, registry, $"The Docker config '{configPath}' could not be read: {e.GetType().Name}. Fix or remove it.");
        }

        using (document)
        {
            var root = document.RootElement;
            var keys = Keys(registry);
            if (root.TryGetProperty("credHelpers", out var helpers) && helpers.ValueKind == JsonValueKind.Object)
            {
                foreach (var key in keys)
                {
                    if (helpers.TryGetProperty(key, out var helper) && helper.GetString() is { Length: > 0 } name)
                    {
                        return FromHelper(name, key, registry);
                    }
                }
            }

            if (root.TryGetProperty("auths", out var auths) && auths.ValueKind == JsonValueKind.Object)
            {
                foreach (var entry in auths.EnumerateObject())
                {
                    if (!keys.Contains(Normalize(entry.Name), StringComparer.OrdinalIgnoreCase) || entry.Value.ValueKind != JsonValueKind.Object)
                    {
                        continue;
                    }

                    if (entry.Value.TryGetProperty("identitytoken", out var token) && token.GetString() is { Length: > 0 } identity)
                    {
                        return new RegistryCredential("<token>", identity, IdentityToken: true);
                    }

                    if (entry.Value.TryGetProperty("auth", out var auth) && auth.GetString() is { Length: > 0 } encoded)
                    {
                        string decoded;
                        try
                        {
                            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
                        }
                        catch (FormatException)
                        {
                            throw new RegistryException(RegistryFailure.CredentialSource, registry, $"The Docker config '{configPath}' has an 'auth' entry for '{entry.Name}' that is not base64. Log in again (docker login / skopeo login).");
                        }

                        var colon = decoded.IndexOf(':');
                        if (colon > 0)
                        {
                            return new RegistryCredential(decoded[..colon], decoded[(colon + 1)..]);
                        }
                    }
                }
            }

            if (root.TryGetProperty("credsStore", out var store) && store.GetString() is { Length: > 0 } storeName)
            {
                return FromHelper(storeName, keys[0], registry);
            }
        }

        return null;
    }

    /// <summary>The keys config.json may use for a host: bare, with https://, and Docker Hub's historical URL.</summary>
    private static string[] Keys(string registry) => registry is ImageReference.DockerHub or "registry-1.docker.io" or "index.docker.io"
        ? ["https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io"]
        : [registry, "https://" + registry, "http://" + registry];

    /// <summary>config.json keys may carry a trailing slash; Docker Hub's is always its historical v1 URL.</summary>
    private static string Normalize(string key) =>
        key.StartsWith("https://index.docker.io", StringComparison.Ordinal) ? "https://index.docker.io/v1/" : key.TrimEnd('/');

    private RegistryCredential? FromHelper(string helper, string serverUrl, string registry)
    {
        var output = _runHelper("docker-credential-" + helper, serverUrl);
        if (output is null)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(output);
            var user = document.RootElement.GetProperty("Username").GetString() ?? "";
            var secret = document.RootElement.GetProperty("Secret").GetString() ?? "";
            return secret.Length == 0 ? null : new RegistryCredential(user, secret, IdentityToken: user == "<token>");
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new RegistryException(RegistryFailure.CredentialSource, registry, $"The credential helper docker-credential-{helper} answered something that is not {{\"Username\",\"Secret\"}} JSON.");
        }
    }

    /// <summary>Runs <c>docker-credential-NAME get</c>; null when it has no credentials for the server.</summary>
    private static string? RunHelper(string program, string serverUrl)
    {
        var start = new ProcessStartInfo(program, "get")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException();
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new RegistryException(RegistryFailure.CredentialSource, serverUrl, $"The credential helper '{program}' named in the Docker config could not be started. Install it, or remove it from config.json.");
        }

        using (process)
        {
            process.StandardInput.Write(serverUrl);
            process.StandardInput.Close();
            var output = process.StandardOutput.ReadToEnd();
            process.StandardError.ReadToEnd();
            process.WaitForExit();
            // The protocol's "credentials not found" is a non-zero exit; that is not an error, just no credentials.
            return process.ExitCode == 0 ? output : null;
        }
    }
}
