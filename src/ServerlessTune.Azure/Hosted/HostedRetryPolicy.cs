using System.ClientModel.Primitives;
using System.Globalization;

namespace ServerlessTune.Azure.Hosted;

/// <summary>
/// The OpenAI library's retry policy (408, 429 and 5xx, up to <see cref="HostedClients.MaxRetries"/> tries) with the
/// first back-off a setting instead of its fixed 0.8 s, and the service's retry-after honoured as given: the library
/// only waits for it when it is longer than its own back-off, and a throttled fine-tuning API means what it says.
/// </summary>
public sealed class HostedRetryPolicy(int maxRetries, TimeSpan firstDelay) : ClientRetryPolicy(maxRetries)
{
    static readonly TimeSpan MaxDelay = TimeSpan.FromMinutes(1);

    protected override TimeSpan GetNextDelay(PipelineMessage message, int tryCount)
    {
        var backOff = TimeSpan.FromTicks(Math.Min(MaxDelay.Ticks, firstDelay.Ticks << Math.Min(tryCount - 1, 16)));
        return message.Response is { } response && RetryAfter(response.Headers) is { } after ? after : backOff;
    }

    /// <summary>retry-after-ms (OpenAI, Azure OpenAI), else retry-after in seconds or as an HTTP date.</summary>
    static TimeSpan? RetryAfter(PipelineResponseHeaders headers)
    {
        if (headers.TryGetValue("retry-after-ms", out string? ms) && double.TryParse(ms, NumberStyles.Float, CultureInfo.InvariantCulture, out double millis))
            return TimeSpan.FromMilliseconds(Math.Clamp(millis, 0, MaxDelay.TotalMilliseconds));
        if (!headers.TryGetValue("retry-after", out string? value)) return null;
        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds))
            return TimeSpan.FromSeconds(Math.Clamp(seconds, 0, MaxDelay.TotalSeconds));
        return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? TimeSpan.FromTicks(Math.Clamp((at - DateTimeOffset.UtcNow).Ticks, 0, MaxDelay.Ticks))
            : null;
    }
}
