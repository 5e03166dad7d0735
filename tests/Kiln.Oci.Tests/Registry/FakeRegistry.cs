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
        Port = LoopbackListener.FreePort();
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

    /// <summary>
    /// Throttling: answer every <see cref="ThrottleEvery"/>-th request (1 = every request, 2 = every second one) with
    /// <see cref="ThrottleStatus"/> and this Retry-After header value (seconds, or an HTTP date); null throttles nothing.
    /// </summary>
    public string? ThrottleRetryAfter { get; set; }

    /// <summary>Which requests are throttled (see <see cref="ThrottleRetryAfter"/>).</summary>
    public int ThrottleEvery { get; set; } = 2;

    /// <summary>The throttling status: 429, or 503 with Retry-After.</summary>
    public int ThrottleStatus { get; set; } = 429;

    /// <summary>Requests answered with the throttling status.</summary>
    public int Throttled => _throttled;

    private int _requestCount;
    private int _throttled;
    private int _uploadCount;
    private readonly Dictionary<string, MemoryStream> _uploads = new(StringComparer.Ordinal);

    /// <summary>Whether a tag (or digest) of a repository was pushed or served.</summary>
    public bool HasManifest(string repository, string reference) => _manifests.ContainsKey($"{repository}|{reference}");

    /// <summary>Whether a blob was pushed or served.</summary>
    public bool HasBlob(string repository, Digest digest) => _blobs.ContainsKey($"{repository}|{digest}");

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
            if (ThrottleRetryAfter is { } retryAfter && ++_requestCount % ThrottleEvery == 0)
            {
                // Read the body first, as a registry behind a proxy does: answering mid-upload and closing makes the
                // client's send fail with a reset instead of seeing the 429, a race that is not what is tested here.
                await DrainAsync(context.Request);
                _throttled++;
                response.StatusCode = ThrottleStatus;
                response.Headers["Retry-After"] = retryAfter;
                response.Close();
                continue;
            }

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

            var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
            try
            {
                if (await TryUploadAsync(context, parts))
                {
                    continue;
                }
            }
            catch (Exception e) when (e is HttpListenerException or IOException)
            {
                // The client gave up on the request mid-body (a refused upload): nothing is stored.
                response.Abort();
                continue;
            }

            byte[]? body = null;
            string? type = null;
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

    private static async Task DrainAsync(HttpListenerRequest request)
    {
        try
        {
            await request.InputStream.CopyToAsync(Stream.Null);
        }
        catch (Exception e) when (e is HttpListenerException or IOException)
        {
            // the client went away
        }
    }

    /// <summary>
    /// The push side of the distribution API, enough for a client: POST opens a session, PATCH appends, PUT ?digest=
    /// closes it (refusing content that does not hash to the digest, as a registry does), PUT of a manifest stores it
    /// under its tag or digest.
    /// </summary>
    private async Task<bool> TryUploadAsync(HttpListenerContext context, string[] parts)
    {
        var request = context.Request;
        var response = context.Response;
        var method = request.HttpMethod;
        if (method is not ("POST" or "PATCH" or "PUT") || parts.Length < 4 || parts[0] != "v2")
        {
            return false;
        }

        var body = new MemoryStream();
        await request.InputStream.CopyToAsync(body);
        if (parts[^2] == "manifests" && method == "PUT")
        {
            var repository = string.Join('/', parts[1..^2]);
            var content = body.ToArray();
            var type = request.ContentType ?? MediaTypes.ImageManifest;
            _manifests[$"{repository}|{parts[^1]}"] = (content, type);
            _manifests[$"{repository}|{Digest.Sha256(content)}"] = (content, type);
            response.StatusCode = 201;
            response.Close();
            return true;
        }

        var uploads = Array.IndexOf(parts, "uploads");
        if (uploads < 3 || parts[uploads - 1] != "blobs")
        {
            return false;
        }

        var repo = string.Join('/', parts[1..(uploads - 1)]);
        if (method == "POST")
        {
            var id = $"u{Interlocked.Increment(ref _uploadCount)}";
            lock (_uploads)
            {
                _uploads[id] = new MemoryStream();
            }

            response.StatusCode = 202;
            response.Headers["Location"] = $"/v2/{repo}/blobs/uploads/{id}";
            response.Close();
            return true;
        }

        MemoryStream? session;
        lock (_uploads)
        {
            _uploads.TryGetValue(parts[^1], out session);
        }

        if (session is null)
        {
            response.StatusCode = 404;
            response.Close();
            return true;
        }

        body.Position = 0;
        body.CopyTo(session);
        if (method == "PATCH")
        {
            response.StatusCode = 202;
            response.Headers["Location"] = $"/v2/{repo}/blobs/uploads/{parts[^1]}";
            response.Close();
            return true;
        }

        var digest = Digest.Parse(request.QueryString["digest"]!);
        var blob = session.ToArray();
        if (Digest.Sha256(blob) != digest)
        {
            response.StatusCode = 400;
            response.Close();
            return true;
        }

        _blobs[$"{repo}|{digest}"] = blob;
        response.StatusCode = 201;
        response.Close();
        return true;
    }

    public void Dispose()
    {
        LoopbackListener.Close(_listener);

        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
    }
}
