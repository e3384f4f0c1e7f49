using System.ClientModel;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using OpenAI;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Serving.Tests;

/// <summary>The serving core on 127.0.0.1 with a free port, as `stune serve` starts it, and clients for it.</summary>
public sealed class TestServer : IAsyncDisposable
{
    public const string Key = "sk-test-key";

    TestServer(ServingApp app)
    {
        App = app;
        Http = Client();
    }

    /// <summary>An HTTP client with the key; <paramref name="handler"/> to change how it treats its connections.</summary>
    public HttpClient Client(HttpMessageHandler? handler = null)
    {
        var http = new HttpClient(handler ?? new SocketsHttpHandler()) { BaseAddress = App.Address, Timeout = TimeSpan.FromMinutes(5) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        return http;
    }

    public ServingApp App { get; }
    public HttpClient Http { get; }

    public static ServingOptions Options(Func<ServingOptions, ServingOptions>? tweak = null)
    {
        var options = new ServingOptions { Port = 0, ApiKey = Key, PollInterval = TimeSpan.FromMilliseconds(200) };
        return tweak?.Invoke(options) ?? options;
    }

    public static Task<TestServer> ForFolderAsync(string folder, Func<ServingOptions, ServingOptions>? tweak = null) =>
        StartAsync(Options(tweak) with { ModelFolder = folder }, null);

    /// <param name="hostServices">What a host adds to the server's services (an OpenTelemetry exporter).</param>
    public static async Task<TestServer> StartAsync(ServingOptions options, IArtifactStore? store, Action<IServiceCollection>? hostServices = null)
    {
        var app = await ServingApp.StartAsync(options.Validated(out _), store, NullLoggerFactory.Instance, hostServices);
        await app.Catalog.WaitUntilLoadedAsync(CancellationToken.None);
        await app.Hosted.WaitUntilLoadedAsync(CancellationToken.None);
        return new TestServer(app);
    }

    public OpenAIClient OpenAI(string key = Key) =>
        new(new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(App.Address, "/v1") });

    public Task<(int Status, JsonNode? Body)> PostAsync(string path, object body) => PostAsync(Http, path, body);

    /// <summary>A JSON POST through any client (the server's, or the Functions front door's).</summary>
    public static async Task<(int Status, JsonNode? Body)> PostAsync(HttpClient http, string path, object body)
    {
        using var response = await http.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    public async Task<JsonNode> OkAsync(string path, object body)
    {
        var (status, json) = await PostAsync(path, body);
        Assert.True(status == 200, $"{path}: {status} {json?.ToJsonString()}");
        return json!;
    }

    /// <summary>Opens a streamed request and returns its response once the first event arrived, with a reader over the rest.</summary>
    public async Task<(HttpResponseMessage Response, StreamReader Reader)> OpenStreamAsync(string path, object body, CancellationToken ct = default,
        HttpClient? via = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        var response = await (via ?? Http).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        // Read the body only for the failure message: reading it otherwise would wait for the whole stream.
        if (!response.IsSuccessStatusCode)
            Assert.Fail($"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));
        return (response, reader);
    }

    /// <summary>The JSON payloads of an event stream up to [DONE].</summary>
    public static async Task<List<JsonNode>> ReadEventsAsync(StreamReader reader, CancellationToken ct = default)
    {
        var events = new List<JsonNode>();
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
            if (line == "data: [DONE]") return events;
            events.Add(JsonNode.Parse(line["data: ".Length..])!);
        }
        throw new InvalidOperationException("the stream ended without data: [DONE]");
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await App.DisposeAsync();
    }
}

/// <summary>Paths the tests read: ../shared/fixtures beside the repository.</summary>
public static class Fixtures
{
    public static string RepositoryRoot([System.Runtime.CompilerServices.CallerFilePath] string thisFile = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(thisFile)!, "..", ".."));

    public static string HfReference(string arch) => Path.Combine(RepositoryRoot(), "..", "shared", "fixtures", "hf-reference", arch);

    public static readonly string[] Architectures = ["gpt2", "gptj", "llama", "mistral", "qwen2", "phi3"];

    public static TheoryData<string> ReferenceArchitectures => new(Architectures);
}
