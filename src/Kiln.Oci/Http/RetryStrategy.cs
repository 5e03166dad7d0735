using System.Net;
using System.Net.Http.Headers;

namespace Kiln.Oci.Http;

/// <summary>How long and how often a <see cref="RetryStrategy"/> keeps trying.</summary>
public sealed record RetryOptions
{
    /// <summary>
    /// The total time an operation may spend waiting out failures: a retry whose wait would end past it is not made.
    /// A budget rather than an attempt count, so that a server asking for a pause (Retry-After) gets it, however many
    /// requests it throttles.
    /// </summary>
    public TimeSpan Budget { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>The first backoff; each further retry doubles it up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The longest backoff Kiln chooses itself (a server's Retry-After may ask for longer, within the budget).</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The clock that waits and measures the budget.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
}

/// <summary>
/// The one retry policy of Kiln's HTTP clients (registries, Debian mirrors): transient failures (refused or broken
/// connections, timeouts, 408, 429, 5xx) are retried with exponential backoff, and a server's <c>Retry-After</c>
/// (seconds or an HTTP date, RFC 9110 §10.2.3) is waited out, all within <see cref="RetryOptions.Budget"/>. Permanent
/// answers (4xx other than 408 and 429) are returned at once: asking again would get the same answer.
/// </summary>
/// <remarks>
/// Kiln's own small type rather than Polly: the MSBuild task package carries every dependency of the engine, and the
/// policy needed is one loop; what Polly's design teaches (an injected <see cref="TimeProvider"/>, a time budget) is kept.
/// </remarks>
public sealed class RetryStrategy(RetryOptions? options = null)
{
    private readonly RetryOptions _options = options ?? new RetryOptions();

    /// <summary>The options in force.</summary>
    public RetryOptions Options => _options;

    /// <summary>
    /// Runs <paramref name="attempt"/> until it succeeds, throws a permanent failure, or the budget runs out. A failure
    /// is transient when <see cref="IsTransient(Exception, CancellationToken)"/> says so, or when it is a <see cref="RetryableException"/>.
    /// </summary>
    /// <exception cref="RetryBudgetExhaustedException">Still failing when the budget ran out; carries the last failure.</exception>
    public Task<T> ExecuteAsync<T>(Func<CancellationToken, Task<T>> attempt, CancellationToken cancellationToken = default) =>
        ExecuteAsync(attempt, e => IsTransient(e, cancellationToken), cancellationToken);

    /// <summary>
    /// Runs <paramref name="attempt"/> like <see cref="ExecuteAsync{T}(Func{CancellationToken, Task{T}}, CancellationToken)"/>,
    /// retrying only the failures <paramref name="isTransient"/> accepts (and <see cref="RetryableException"/>).
    /// </summary>
    public async Task<T> ExecuteAsync<T>(Func<CancellationToken, Task<T>> attempt, Func<Exception, bool> isTransient, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(isTransient);
        var time = _options.Time;
        var start = time.GetTimestamp();
        for (var number = 1; ; number++)
        {
            Exception failure;
            TimeSpan? retryAfter;
            try
            {
                return await attempt(cancellationToken).ConfigureAwait(false);
            }
            catch (RetryableException e)
            {
                failure = e;
                retryAfter = e.RetryAfter;
            }
            catch (Exception e) when (isTransient(e))
            {
                failure = e;
                retryAfter = null;
            }

            // The server's own Retry-After replaces the backoff (it knows when it will take requests again); it is
            // never shorter than the first backoff, so that "Retry-After: 0" cannot spin.
            var delay = retryAfter is { } asked
                ? (asked > _options.InitialBackoff ? asked : _options.InitialBackoff)
                : Backoff(number);

            var elapsed = time.GetElapsedTime(start);
            if (elapsed + delay > _options.Budget)
            {
                throw new RetryBudgetExhaustedException(number, elapsed, retryAfter, failure);
            }

            await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Sends with <see cref="ExecuteAsync{T}(Func{CancellationToken, Task{T}}, CancellationToken)"/>: a response with a transient status is disposed and sent again; any
    /// other response (success or permanent failure) is the caller's to dispose.
    /// </summary>
    public Task<HttpResponseMessage> SendAsync(Func<CancellationToken, Task<HttpResponseMessage>> send, CancellationToken cancellationToken = default) =>
        ExecuteAsync(async ct =>
        {
            var response = await send(ct).ConfigureAwait(false);
            if (!IsTransient(response.StatusCode))
            {
                return response;
            }

            var retryAfter = RetryAfter(response, _options.Time);
            var status = response.StatusCode;
            response.Dispose();
            throw new RetryableException($"HTTP {(int)status}", status, retryAfter);
        }, cancellationToken);

    /// <summary>Whether a status is worth asking again for: 408, 429, and server errors other than 501 and 505.</summary>
    public static bool IsTransient(HttpStatusCode status) => (int)status switch
    {
        408 or 429 => true,
        501 or 505 => false,
        >= 500 and < 600 => true,
        _ => false,
    };

    /// <summary>
    /// Whether an exception is a transient transport failure: a refused or broken connection, an I/O error, a timeout
    /// (HttpClient's, not the caller's cancellation), or an HTTP error carrying a transient status.
    /// </summary>
    public static bool IsTransient(Exception e, CancellationToken cancellationToken) => e switch
    {
        RetryableException => true,
        HttpRequestException { StatusCode: { } status } => IsTransient(status),
        HttpRequestException => true,
        IOException => true,
        TaskCanceledException => !cancellationToken.IsCancellationRequested,
        _ => false,
    };

    /// <summary>
    /// The wait a response asks for in <c>Retry-After</c>, as seconds or as an HTTP date (then measured from
    /// <paramref name="time"/>'s now; a date in the past means no wait); null without the header.
    /// </summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage response, TimeProvider time) =>
        RetryAfter(response.Headers.RetryAfter, time);

    /// <summary>The wait a parsed <c>Retry-After</c> header asks for; see <see cref="RetryAfter(HttpResponseMessage, TimeProvider)"/>.</summary>
    public static TimeSpan? RetryAfter(RetryConditionHeaderValue? header, TimeProvider time) => header switch
    {
        { Delta: { } delta } => delta < TimeSpan.Zero ? TimeSpan.Zero : delta,
        { Date: { } date } => date - time.GetUtcNow() is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero,
        _ => null,
    };

    /// <summary>Whether a response is a server asking the client to slow down: 429, or 503 with Retry-After.</summary>
    public static bool IsThrottle(HttpStatusCode status, TimeSpan? retryAfter) =>
        status == HttpStatusCode.TooManyRequests || (status == HttpStatusCode.ServiceUnavailable && retryAfter is not null);

    private TimeSpan Backoff(int attempt)
    {
        var backoff = TimeSpan.FromTicks(_options.InitialBackoff.Ticks * (1L << Math.Min(attempt - 1, 16)));
        return backoff > _options.MaxBackoff ? _options.MaxBackoff : backoff;
    }
}
