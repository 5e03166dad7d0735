using System.Net;
using System.Net.Http.Headers;
using Kiln.Oci.Http;
using Kiln.Tests.Shared;

namespace Kiln.Oci.Tests.Http;

/// <summary>The one retry policy, with fake time: what is retried, how long it waits, and when it gives up.</summary>
public sealed class RetryStrategyTests
{
    private static RetryStrategy Strategy(InstantTimeProvider time, TimeSpan? budget = null) => new(new RetryOptions
    {
        Budget = budget ?? TimeSpan.FromSeconds(30),
        InitialBackoff = TimeSpan.FromMilliseconds(100),
        MaxBackoff = TimeSpan.FromSeconds(2),
        Time = time,
    });

    private static Func<CancellationToken, Task<HttpResponseMessage>> Answers(List<int> sent, params Func<HttpResponseMessage>[] answers) => _ =>
    {
        sent.Add(sent.Count);
        return Task.FromResult(answers[Math.Min(sent.Count - 1, answers.Length - 1)]());
    };

    private static HttpResponseMessage Status(int status, RetryConditionHeaderValue? retryAfter = null)
    {
        var response = new HttpResponseMessage((HttpStatusCode)status);
        response.Headers.RetryAfter = retryAfter;
        return response;
    }

    [Theory]
    [InlineData(400)]
    [InlineData(401)]
    [InlineData(403)]
    [InlineData(404)]
    [InlineData(501)]
    public async Task SendAsync_PermanentStatus_ReturnedWithoutRetry(int status)
    {
        var time = new InstantTimeProvider();
        var sent = new List<int>();

        using var response = await Strategy(time).SendAsync(Answers(sent, () => Status(status)));

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Single(sent);
        Assert.Empty(time.Waits);
    }

    [Theory]
    [InlineData(408)]
    [InlineData(429)]
    [InlineData(500)]
    [InlineData(502)]
    [InlineData(503)]
    [InlineData(504)]
    public async Task SendAsync_TransientStatusThenOk_RetriedWithBackoff(int status)
    {
        var time = new InstantTimeProvider();
        var sent = new List<int>();

        using var response = await Strategy(time).SendAsync(Answers(sent, () => Status(status), () => Status(status), () => Status(200)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, sent.Count);
        Assert.Equal([TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(200)], time.Waits);
    }

    [Fact]
    public async Task SendAsync_RetryAfterSeconds_WaitsThatLongNotTheBackoff()
    {
        var time = new InstantTimeProvider();
        var sent = new List<int>();

        using var response = await Strategy(time).SendAsync(Answers(sent, () => Status(429, new RetryConditionHeaderValue(TimeSpan.FromSeconds(7))), () => Status(200)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([TimeSpan.FromSeconds(7)], time.Waits);
    }

    [Fact]
    public async Task SendAsync_RetryAfterHttpDate_WaitsUntilThatDate()
    {
        var time = new InstantTimeProvider();
        var sent = new List<int>();
        var until = time.GetUtcNow().AddSeconds(12);

        using var response = await Strategy(time).SendAsync(Answers(sent, () => Status(503, new RetryConditionHeaderValue(until)), () => Status(200)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([TimeSpan.FromSeconds(12)], time.Waits);
    }

    [Fact]
    public async Task SendAsync_ThrottledEveryOtherRequestManyTimes_SucceedsBecauseTheLimitIsTimeNotAttempts()
    {
        var time = new InstantTimeProvider();
        var strategy = Strategy(time);
        var sent = 0;

        for (var i = 0; i < 20; i++)
        {
            using var response = await strategy.SendAsync(_ => Task.FromResult(++sent % 2 == 0 ? Status(429, new RetryConditionHeaderValue(TimeSpan.FromSeconds(1))) : Status(200)));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // Every call after the first meets one throttled request (the even ones) and waits its pause out: 19 pauses in
        // all, more than any fixed attempt count would have allowed across them, and none of them lost.
        Assert.Equal(TimeSpan.FromSeconds(19), time.Waited);
    }

    [Fact]
    public async Task SendAsync_EndlessThrottling_GivesUpAtTheBudgetAsThrottled()
    {
        var time = new InstantTimeProvider();
        var sent = new List<int>();

        var e = await Assert.ThrowsAsync<RetryBudgetExhaustedException>(() => Strategy(time, TimeSpan.FromSeconds(10)).SendAsync(Answers(sent, () => Status(429, new RetryConditionHeaderValue(TimeSpan.FromSeconds(1))))));

        Assert.True(e.Throttled);
        Assert.Equal(HttpStatusCode.TooManyRequests, e.Status);
        Assert.Equal(TimeSpan.FromSeconds(1), e.RetryAfter);
        Assert.Equal(sent.Count, e.Attempts);
        Assert.True(time.Waited <= TimeSpan.FromSeconds(10), $"waited {time.Waited} within a 10 s budget");
        Assert.True(e.Attempts >= 10, $"{e.Attempts} attempts: every 1 s pause within the budget was waited out");
    }

    [Fact]
    public async Task SendAsync_RetryAfterLongerThanBudget_GivesUpWithoutWaiting()
    {
        var time = new InstantTimeProvider();
        var sent = new List<int>();

        var e = await Assert.ThrowsAsync<RetryBudgetExhaustedException>(() => Strategy(time, TimeSpan.FromSeconds(10)).SendAsync(Answers(sent, () => Status(429, new RetryConditionHeaderValue(TimeSpan.FromHours(1))))));

        Assert.Single(sent);
        Assert.Empty(time.Waits);
        Assert.Equal(TimeSpan.FromHours(1), e.RetryAfter);
    }

    [Fact]
    public async Task SendAsync_ServerErrorWithoutRetryAfter_NotReportedAsThrottling()
    {
        var time = new InstantTimeProvider();

        var e = await Assert.ThrowsAsync<RetryBudgetExhaustedException>(() => Strategy(time, TimeSpan.FromSeconds(3)).SendAsync(Answers([], () => Status(503))));

        Assert.False(e.Throttled);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, e.Status);
    }

    [Fact]
    public async Task ExecuteAsync_TransportFailures_RetriedThenPermanentErrorPassesThrough()
    {
        var time = new InstantTimeProvider();
        var attempts = 0;

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => Strategy(time).ExecuteAsync<int>(_ => ++attempts switch
        {
            1 => throw new HttpRequestException("refused", null),
            2 => throw new IOException("reset"),
            _ => throw new InvalidOperationException("a bug, not the network"),
        }));

        Assert.Equal("a bug, not the network", e.Message);
        Assert.Equal(3, attempts);
        Assert.Equal(2, time.Waits.Count);
    }

    [Fact]
    public async Task ExecuteAsync_CallerCancels_NotRetried()
    {
        var time = new InstantTimeProvider();
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var attempts = 0;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Strategy(time).ExecuteAsync<int>(ct =>
        {
            attempts++;
            ct.ThrowIfCancellationRequested();
            return Task.FromResult(0);
        }, cancelled.Token));

        Assert.Equal(1, attempts);
    }

    [Fact]
    public void RetryAfter_DateInThePast_NoWait()
    {
        var time = new InstantTimeProvider();
        Assert.Equal(TimeSpan.Zero, RetryStrategy.RetryAfter(new RetryConditionHeaderValue(time.GetUtcNow().AddMinutes(-1)), time));
        Assert.Null(RetryStrategy.RetryAfter((RetryConditionHeaderValue?)null, time));
    }
}
