using System.Text.Json;
using Microsoft.AspNetCore.Http;
using ServerlessTune.Serving.Protocol;

namespace ServerlessTune.Serving.Http;

/// <summary>OpenAI's streaming framing: <c>data: {json}</c> events, each flushed, ending with <c>data: [DONE]</c>.</summary>
sealed class ServerSentEvents(HttpResponse response)
{
    static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();

    public async Task StartAsync()
    {
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        // Tells a reverse proxy (nginx, the Functions front door later) not to buffer the stream.
        response.Headers["X-Accel-Buffering"] = "no";
        await response.StartAsync();
    }

    public async Task SendAsync<T>(T payload, CancellationToken ct)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(payload, ProtocolJson.Options);
        await response.Body.WriteAsync("data: "u8.ToArray(), ct);
        await response.Body.WriteAsync(bytes, ct);
        await response.Body.WriteAsync("\n\n"u8.ToArray(), ct);
        await response.Body.FlushAsync(ct);
    }

    public async Task DoneAsync(CancellationToken ct)
    {
        await response.Body.WriteAsync(Done, ct);
        await response.Body.FlushAsync(ct);
    }
}
