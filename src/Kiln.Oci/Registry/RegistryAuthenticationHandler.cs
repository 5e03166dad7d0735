using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Kiln.Oci.Registry;

/// <summary>What a registry request is for: the repository (and, for a cross-repository mount, the source) its token must cover.</summary>
/// <param name="OneShot">The request's body is a stream that can be sent only once (an upload), so it cannot be replayed after a challenge.</param>
internal sealed record RegistryScope(string Repository, bool Push, string? MountFrom = null, bool OneShot = false)
{
    /// <summary>Where the scope travels with a request.</summary>
    public static readonly HttpRequestOptionsKey<RegistryScope> Key = new("Kiln.Registry.Scope");

    /// <summary>The token scope (https://distribution.github.io/distribution/spec/auth/scope/).</summary>
    public string Text => $"repository:{Repository}:{(Push ? "pull,push" : "pull")}";
}

/// <summary>
/// Authenticates registry requests, as the .NET SDK's container code does in a message handler: a request goes out with
/// the token (or basic credentials) already earned for its scope; a 401 challenge is answered once (a Bearer token from
/// the realm named, https://distribution.github.io/distribution/spec/auth/token/, or Basic) and the request replayed.
/// A second refusal, or a 403, is a <see cref="RegistryException"/> naming the registry and where credentials were
/// looked for, never a secret. Requests without a <see cref="RegistryScope"/> (the /v2/ probe) pass through untouched.
/// </summary>
internal sealed class RegistryAuthenticationHandler(string registry, ICredentialSource credentials, HttpMessageHandler inner)
    : DelegatingHandler(inner)
{
    private readonly ConcurrentDictionary<string, AuthenticationHeaderValue> _tokens = new(StringComparer.Ordinal);
    private AuthenticationHeaderValue? _basic;

    /// <inheritdoc />
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!request.Options.TryGetValue(RegistryScope.Key, out var scope))
        {
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }

        for (var round = 0; ; round++)
        {
            var authorization = _tokens.TryGetValue(scope.Text, out var token) ? token : _basic;
            request.Headers.Authorization = authorization;
            var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.Unauthorized || round > 0)
            {
                if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
                {
                    var credential = credentials.Find(registry);
                    response.Dispose();
                    throw credential is null
                        ? CredentialsMissing(scope.Repository)
                        : new RegistryException(RegistryFailure.CredentialsRejected, registry, $"Registry '{registry}' refused the credentials found for it (user '{credential.Username}') for '{scope.Repository}' ({(int)response.StatusCode}). Check them in {credentials.Describe()}, and that the user may {(scope.Push ? "push to" : "pull from")} '{scope.Repository}'.", response.StatusCode);
                }

                return response;
            }

            var challenge = response.Headers.WwwAuthenticate.FirstOrDefault();
            response.Dispose();
            if (scope.OneShot)
            {
                // A streamed body is gone once sent; the upload's POST settled authentication before it.
                throw new RegistryException(RegistryFailure.CredentialsRejected, registry, $"Registry '{registry}' asked for authentication again during an upload to '{scope.Repository}'.");
            }

            await AuthenticateAsync(challenge, scope, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task AuthenticateAsync(AuthenticationHeaderValue? challenge, RegistryScope scope, CancellationToken cancellationToken)
    {
        var credential = credentials.Find(registry);
        if (challenge is null || challenge.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase))
        {
            if (credential is null)
            {
                throw CredentialsMissing(scope.Repository);
            }

            _basic = Basic(credential);
            return;
        }

        if (!challenge.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase))
        {
            throw new RegistryException(RegistryFailure.Protocol, registry, $"Registry '{registry}' asks for '{challenge.Scheme}' authentication, which Kiln does not support (Basic and Bearer tokens are).");
        }

        var parameters = ParseChallenge(challenge.Parameter ?? "");
        if (!parameters.TryGetValue("realm", out var realm) || !Uri.TryCreate(realm, UriKind.Absolute, out var realmUri))
        {
            throw new RegistryException(RegistryFailure.Protocol, registry, $"Registry '{registry}' sent a Bearer challenge without a usable realm.");
        }

        var query = new StringBuilder();
        if (parameters.TryGetValue("service", out var service))
        {
            query.Append("service=").Append(Uri.EscapeDataString(service));
        }

        var scopes = new List<string> { scope.Text };
        if (scope.MountFrom is not null)
        {
            scopes.Add($"repository:{scope.MountFrom}:pull");
        }

        foreach (var s in scopes)
        {
            query.Append(query.Length > 0 ? "&" : "").Append("scope=").Append(Uri.EscapeDataString(s));
        }

        using var tokenRequest = new HttpRequestMessage(HttpMethod.Get, new UriBuilder(realmUri) { Query = query.ToString() }.Uri);
        if (credential is not null && !credential.IdentityToken)
        {
            tokenRequest.Headers.Authorization = Basic(credential);
        }

        using var response = await base.SendAsync(tokenRequest, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            throw credential is null
                ? CredentialsMissing(scope.Repository)
                : new RegistryException(RegistryFailure.CredentialsRejected, registry, $"The token service of registry '{registry}' refused the credentials found for it (user '{credential.Username}'). Check them in {credentials.Describe()}.", response.StatusCode);
        }

        if (!response.IsSuccessStatusCode)
        {
            throw new RegistryException(RegistryFailure.Protocol, registry, $"The token service of registry '{registry}' answered {(int)response.StatusCode}.", response.StatusCode);
        }

        string? value;
        try
        {
            using var document = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false));
            value = document.RootElement.TryGetProperty("token", out var t) ? t.GetString()
                : document.RootElement.TryGetProperty("access_token", out var a) ? a.GetString() : null;
        }
        catch (JsonException)
        {
            value = null;
        }

        if (string.IsNullOrEmpty(value))
        {
            throw new RegistryException(RegistryFailure.Protocol, registry, $"The token service of registry '{registry}' answered without a token.");
        }

        _tokens[scope.Text] = new AuthenticationHeaderValue("Bearer", value);
    }

    private static AuthenticationHeaderValue Basic(RegistryCredential credential) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credential.Username}:{credential.Secret}")));

    private RegistryException CredentialsMissing(string repository) =>
        new(RegistryFailure.CredentialsMissing, registry, $"Registry '{registry}' requires authentication for '{repository}', and no credentials for it were found. Kiln looks in: {credentials.Describe()}. Log in (docker login {registry}, or skopeo login), or set KILN_REGISTRY_USERNAME and KILN_REGISTRY_PASSWORD.", HttpStatusCode.Unauthorized);

    /// <summary>The parameters of a challenge: <c>realm="…",service="…",scope="…"</c>, quoted or not.</summary>
    internal static Dictionary<string, string> ParseChallenge(string text)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && (text[i] == ',' || text[i] == ' '))
            {
                i++;
            }

            var eq = text.IndexOf('=', i);
            if (eq < 0)
            {
                break;
            }

            var key = text[i..eq].Trim();
            i = eq + 1;
            string value;
            if (i < text.Length && text[i] == '"')
            {
                var end = text.IndexOf('"', i + 1);
                end = end < 0 ? text.Length : end;
                value = text[(i + 1)..end];
                i = end + 1;
            }
            else
            {
                var end = text.IndexOf(',', i);
                end = end < 0 ? text.Length : end;
                value = text[i..end].Trim();
                i = end;
            }

            result[key] = value;
        }

        return result;
    }
}
