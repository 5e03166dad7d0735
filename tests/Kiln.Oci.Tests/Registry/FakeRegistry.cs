using System.Net;
using Kiln.Oci;

namespace Kiln.Tests.Registry;

/// <summary>
/// A tiny registry on 127.0.0.1 that serves one image and lets a test corrupt what it serves or fail requests: for the
/// faults a real registry never produces (wrong content, 503 bursts).
/// </summary>
internal sealed class FakeRegistry : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Dictionary<string, (byte[] Content, string MediaType)> _manifests = new(StringComparer.Ordinal);
    private readonly Dictionary<string, byte[]> _blobs = new(StringComparer.Ordinal);
    private readonly Task _loop;
    private int _failuresLeft;

    public FakeRegistry()
    {
        Port = RegistryServer.FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public int Port { get; }

    public string Host => $"127.0.0.1:{Port}";

    /// <summary>Requests seen, in order ("GET /v2/…").</summary>
    public List<string> Requests { get; } = [];

    /// <summary>
    /// When set, /v2/ requests need <c>Authorization: Bearer TOKEN</c>; /token hands TOKEN out for basic credentials
    /// <c>user:password</c> (the token flow of https://distribution.github.io/distribution/spec/auth/token/).
    /// </summary>
    public (string User, string Password, string Token)? Bearer { get; set; }

    /// <summary>The query strings the token endpoint was called with.</summary>
    public List<string> TokenQueries { get; } = [];

    /// <summary>Answer the next <paramref name="count"/> requests with 503.</summary>
    public void FailNext(int count) => _failuresLeft = count;

    /// <summary>Serves an image: a config, layers, and the manifest; returns the manifest's descriptor.</summary>
    public Descriptor Serve(string repository, ImageManifest manifest, IReadOnlyDictionary<Digest, byte[]> blobs)
    {
        var bytes = manifest.ToJson();
        var digest = Digest.Sha256(bytes);
        _manifests[$"{repository}|{digest}"] = (bytes, manifest.MediaType);
        foreach (var (d, content) in blobs)
        {
            _blobs[$"{repository}|{d}"] = content;
        }

        return new Descriptor(manifest.MediaType, digest, bytes.Length);
    }

    /// <summary>Serves <paramref name="content"/> under <paramref name="digest"/> regardless of what it hashes to.</summary>
    public void Corrupt(string repository, Digest digest, byte[] content) => _blobs[$"{repository}|{digest}"] = content;

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            var path = context.Request.Url!.AbsolutePath;
            lock (Requests)
            {
                Requests.Add($"{context.Request.HttpMethod} {path}");
            }

            var response = context.Response;
            if (_failuresLeft > 0)
            {
                _failuresLeft--;
                response.StatusCode = 503;
                response.Close();
                continue;
            }

            if (Bearer is { } bearer)
            {
                var authorization = context.Request.Headers["Authorization"];
                if (path == "/token")
                {
                    lock (TokenQueries)
                    {
                        TokenQueries.Add(context.Request.Url!.Query);
                    }

                    var expected = "Basic " + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{bearer.User}:{bearer.Password}"));
                    response.StatusCode = authorization == expected ? 200 : 401;
                    if (response.StatusCode == 200)
                    {
                        var token = System.Text.Encoding.UTF8.GetBytes($"{{\"token\":\"{bearer.Token}\"}}");
                        response.ContentType = "application/json";
                        await response.OutputStream.WriteAsync(token);
                    }

                    response.Close();
                    continue;
                }

                if (authorization != "Bearer " + bearer.Token)
                {
                    response.StatusCode = 401;
                    response.Headers["WWW-Authenticate"] = $"Bearer realm=\"http://127.0.0.1:{Port}/token\",service=\"fake-registry\"";
                    response.Close();
                    continue;
                }
            }

            byte[]? body = null;
            string? type = null;
            var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
            if (path == "/v2/")
            {
                body = "{}"u8.ToArray();
            }
            else if (parts.Length >= 4 && parts[0] == "v2")
            {
                var repository = string.Join('/', parts[1..^2]);
                var key = $"{repository}|{parts[^1]}";
                if (parts[^2] == "manifests" && _manifests.TryGetValue(key, out var m))
                {
                    body = m.Content;
                    type = m.MediaType;
                    response.Headers["Docker-Content-Digest"] = parts[^1];
                }
                else if (parts[^2] == "blobs" && _blobs.TryGetValue(key, out var b))
                {
                    body = b;
                    type = "application/octet-stream";
                }
            }

            if (body is null)
            {
                response.StatusCode = 404;
                response.Close();
                continue;
            }

            response.StatusCode = 200;
            response.ContentType = type ?? "application/json";
            response.ContentLength64 = body.Length;
            if (context.Request.HttpMethod != "HEAD")
            {
                await response.OutputStream.WriteAsync(body);
            }

            response.Close();
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
    }
}
