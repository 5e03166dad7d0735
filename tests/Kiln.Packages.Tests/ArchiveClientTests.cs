using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Kiln.Engine.Diagnostics;
using Kiln.Engine.Packages;
using Kiln.Oci.Http;
using Kiln.Tests.Shared;

namespace Kiln.Packages.Tests;

/// <summary>
/// The Debian archive client's retries, through a fake handler and fake time: the same strategy as the registry
/// client (transient failures and throttling retried within a budget, permanent answers at once), no real waiting.
/// </summary>
public sealed class ArchiveClientTests : IDisposable
{
    private static readonly Uri Mirror = new("http://mirror.test/debian/");
    private readonly string _cache = Directory.CreateTempSubdirectory("kiln-archive-client-").FullName;
    private readonly byte[] _deb = RandomNumberGenerator.GetBytes(4096);

    public void Dispose() => Directory.Delete(_cache, recursive: true);

    private string Sha256 => Convert.ToHexStringLower(SHA256.HashData(_deb));

    private (ArchiveClient Client, ScriptedHandler Handler, InstantTimeProvider Time) Client(TimeSpan? budget = null, params Func<HttpResponseMessage>[] answers)
    {
        var time = new InstantTimeProvider();
        var handler = new ScriptedHandler(answers);
        var client = new ArchiveClient(Mirror, new PackageCache(_cache), new HttpClient(handler), new RetryOptions
        {
            Budget = budget ?? TimeSpan.FromSeconds(60),
            InitialBackoff = TimeSpan.FromMilliseconds(200),
            Time = time,
        });
        return (client, handler, time);
    }

    private static HttpResponseMessage Status(HttpStatusCode status, TimeSpan? retryAfter = null)
    {
        var response = new HttpResponseMessage(status);
        if (retryAfter is { } r)
        {
            response.Headers.RetryAfter = new RetryConditionHeaderValue(r);
        }

        return response;
    }

    private HttpResponseMessage Deb(int? length = null) => new(HttpStatusCode.OK) { Content = new ByteArrayContent(_deb, 0, length ?? _deb.Length) };

    [Theory]
    [InlineData(HttpStatusCode.Forbidden)]
    [InlineData(HttpStatusCode.NotFound)]
    [InlineData(HttpStatusCode.Gone)]
    public async Task Download_PermanentStatus_ReportedAtOnceWithoutRetry(HttpStatusCode status)
    {
        var (client, handler, time) = Client(null, () => Status(status));

        var e = await Assert.ThrowsAsync<KilnException>(() => client.DownloadAsync("pool/a.deb", Sha256, _deb.Length, DiagnosticCodes.PackageHashMismatch, "Package a"));

        Assert.Equal(DiagnosticCodes.PackageDownloadFailed, e.Diagnostics[0].Code);
        Assert.Contains(((int)status).ToString(), e.Diagnostics[0].Message);
        Assert.Equal(1, handler.Requests);
        Assert.Empty(time.Waits);
        Assert.Empty(Directory.GetFiles(_cache, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Download_ServerErrorsThenContent_RetriedWithExponentialBackoff()
    {
        var (client, handler, time) = Client(null, () => Status(HttpStatusCode.BadGateway), () => Status(HttpStatusCode.ServiceUnavailable), () => Deb());

        var temp = await client.DownloadAsync("pool/a.deb", Sha256, _deb.Length, DiagnosticCodes.PackageHashMismatch, "Package a");

        Assert.Equal(_deb, File.ReadAllBytes(temp));
        Assert.Equal(3, handler.Requests);
        Assert.Equal([TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(400)], time.Waits);
    }

    [Fact]
    public async Task Download_Throttled429WithRetryAfter_WaitsThePauseOut()
    {
        var (client, _, time) = Client(null, () => Status(HttpStatusCode.TooManyRequests, TimeSpan.FromSeconds(5)), () => Deb());

        await client.DownloadAsync("pool/a.deb", Sha256, _deb.Length, DiagnosticCodes.PackageHashMismatch, "Package a");

        Assert.Equal([TimeSpan.FromSeconds(5)], time.Waits);
    }

    [Fact]
    public async Task Download_EndlessThrottling_ReportsThrottledMirrorAfterTheBudget()
    {
        var (client, handler, time) = Client(TimeSpan.FromSeconds(20), () => Status(HttpStatusCode.TooManyRequests, TimeSpan.FromSeconds(2)));

        var e = await Assert.ThrowsAsync<KilnException>(() => client.DownloadAsync("pool/a.deb", Sha256, _deb.Length, DiagnosticCodes.PackageHashMismatch, "Package a"));

        Assert.Equal(DiagnosticCodes.PackageDownloadFailed, e.Diagnostics[0].Code);
        Assert.Contains("throttled", e.Diagnostics[0].Message);
        Assert.True(time.Waited <= TimeSpan.FromSeconds(20));
        Assert.Equal(handler.Requests - 1, time.Waits.Count);
    }

    [Fact]
    public async Task Download_ShortEveryTime_ReportsIncompleteAndKeepsNothing()
    {
        var (client, handler, _) = Client(TimeSpan.FromSeconds(5), () => Deb(length: 1000));

        var e = await Assert.ThrowsAsync<KilnException>(() => client.DownloadAsync("pool/a.deb", Sha256, _deb.Length, DiagnosticCodes.PackageHashMismatch, "Package a"));

        Assert.Equal(DiagnosticCodes.PackageDownloadIncomplete, e.Diagnostics[0].Code);
        Assert.True(handler.Requests > 1);
        Assert.Empty(Directory.GetFiles(_cache, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Download_WrongHash_RefusedAtOnceWithTheCallersCode()
    {
        var (client, handler, _) = Client(null, () => Deb());

        var e = await Assert.ThrowsAsync<KilnException>(() => client.DownloadAsync("pool/a.deb", new string('0', 64), _deb.Length, DiagnosticCodes.PackageHashMismatch, "Package a"));

        Assert.Equal(DiagnosticCodes.PackageHashMismatch, e.Diagnostics[0].Code);
        Assert.Equal(1, handler.Requests);
    }

    [Fact]
    public async Task GetBytes_ConnectionRefusedThenOk_Retried()
    {
        var (client, handler, time) = Client(null, () => throw new HttpRequestException("refused", null), () => Deb());

        Assert.Equal(_deb, await client.GetBytesAsync("dists/x/InRelease"));
        Assert.Equal(2, handler.Requests);
        Assert.Single(time.Waits);
    }

    [Fact]
    public async Task GetBytes_NotFound_NullWithoutRetry()
    {
        var (client, handler, _) = Client(null, () => Status(HttpStatusCode.NotFound));

        Assert.Null(await client.GetBytesAsync("dists/x/InRelease"));
        Assert.Equal(1, handler.Requests);
    }

    [Fact]
    public async Task GetBytes_Unreachable_ReportsKILN1040AfterTheBudget()
    {
        var (client, _, time) = Client(TimeSpan.FromSeconds(10), () => throw new HttpRequestException("refused", null));

        var e = await Assert.ThrowsAsync<KilnException>(() => client.GetBytesAsync("dists/x/InRelease"));

        Assert.Equal(DiagnosticCodes.PackageDownloadFailed, e.Diagnostics[0].Code);
        Assert.Contains("could not be reached", e.Diagnostics[0].Message);
        Assert.True(time.Waited <= TimeSpan.FromSeconds(10));
    }

    /// <summary>Answers requests from a script (the last answer repeats), counting them.</summary>
    private sealed class ScriptedHandler(Func<HttpResponseMessage>[] answers) : HttpMessageHandler
    {
        private int _requests;

        public int Requests => _requests;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var index = Interlocked.Increment(ref _requests) - 1;
            return Task.FromResult(answers[Math.Min(index, answers.Length - 1)]());
        }
    }
}
