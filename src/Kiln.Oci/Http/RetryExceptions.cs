using System.Net;

namespace Kiln.Oci.Http;

/// <summary>Thrown by an attempt to ask <see cref="RetryStrategy"/> for another try (after <see cref="RetryAfter"/>, if given).</summary>
public sealed class RetryableException(string message, HttpStatusCode? status = null, TimeSpan? retryAfter = null, Exception? inner = null)
    : Exception(message, inner)
{
    /// <summary>The HTTP status that failed the attempt, when there was one.</summary>
    public HttpStatusCode? Status { get; } = status;

    /// <summary>The wait the server asked for.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;

    /// <summary>Whether the server was throttling (429, or 503 with Retry-After) rather than failing.</summary>
    public bool Throttled => Status is { } s && RetryStrategy.IsThrottle(s, RetryAfter);
}

/// <summary>An operation still failed transiently when its retry budget ran out.</summary>
public sealed class RetryBudgetExhaustedException(int attempts, TimeSpan elapsed, TimeSpan? retryAfter, Exception last)
    : Exception($"Still failing after {attempts} attempt(s) in {elapsed.TotalSeconds:0.#} s: {last.Message}", last)
{
    /// <summary>Attempts made.</summary>
    public int Attempts { get; } = attempts;

    /// <summary>Time spent, by the strategy's clock.</summary>
    public TimeSpan Elapsed { get; } = elapsed;

    /// <summary>The wait the server asked for last, if it asked.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;

    /// <summary>The last failure (a <see cref="RetryableException"/> for a status, else the transport's exception).</summary>
    public Exception Last { get; } = last;

    /// <summary>The HTTP status of the last failure, when it was one.</summary>
    public HttpStatusCode? Status => Last switch
    {
        RetryableException r => r.Status,
        HttpRequestException h => h.StatusCode,
        _ => null,
    };

    /// <summary>Whether the server was throttling when the budget ran out.</summary>
    public bool Throttled => Last is RetryableException { Throttled: true };
}
