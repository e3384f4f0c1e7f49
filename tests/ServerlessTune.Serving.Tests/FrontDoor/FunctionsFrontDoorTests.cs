using System.ClientModel;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using OpenAI.Chat;
using ServerlessTune.Functions;

namespace ServerlessTune.Serving.Tests.FrontDoor;

/// <summary>A real backend (the serving core over the tiny model) and the front doors the tests drive.</summary>
public sealed class FrontDoorFixture : IAsyncLifetime
{
    readonly TinyServer backend = new();

    public TestServer Backend => backend.Server;
    /// <summary>Forwards to <see cref="Backend"/>.</summary>
    public FrontDoorHost Door { get; private set; } = null!;
    /// <summary>Forwards to a loopback port nothing listens on.</summary>
    public FrontDoorHost DeadDoor { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await backend.InitializeAsync();
        Door = await FrontDoorHost.StartAsync(Backend.App.Address);
        DeadDoor = await FrontDoorHost.StartAsync(FrontDoorHost.NothingListening());
    }

    public async Task DisposeAsync()
    {
        if (Door is not null) await Door.DisposeAsync();
        if (DeadDoor is not null) await DeadDoor.DisposeAsync();
        await backend.DisposeAsync();
    }
}

/// <summary>
/// The Functions app's public /api/v1 endpoint, through its function class, in front of the serving core on loopback:
/// the key, the body bound, SSE framing, forwarding, cancellation and a backend that is down.
/// </summary>
public sealed class FunctionsFrontDoorTests(FrontDoorFixture fixture) : IClassFixture<FrontDoorFixture>
{
    static readonly ChatMessage[] Hello = [new SystemChatMessage("You answer briefly."), new UserChatMessage("My fiber light is red")];
    static readonly object ChatBody = new
    {
        model = "tiny",
        messages = new[] { new { role = "user", content = "My fiber light is red" } },
        temperature = 0,
        max_tokens = 12,
        stream = true,
        stream_options = new { include_usage = true },
    };

    FrontDoorHost Door => fixture.Door;
    TestServer Backend => fixture.Backend;

    [Fact]
    public async Task Without_the_public_key_every_route_answers_401_and_nothing_is_forwarded()
    {
        // The dead door proves the refusal is the front door's own: forwarding would have answered 502.
        foreach (var door in new[] { Door, fixture.DeadDoor })
        {
            using var anonymous = door.Client(bearer: null);
            foreach (var request in new Func<HttpRequestMessage>[]
            {
                () => new(HttpMethod.Get, "/api/v1/models"),
                () => new(HttpMethod.Post, "/api/v1/chat/completions") { Content = JsonContent.Create(ChatBody) },
                () => new(HttpMethod.Post, "/api/v1/completions") { Content = JsonContent.Create(new { model = "tiny", prompt = "hi" }) },
                () => new(HttpMethod.Post, "/api/v1/feedback") { Content = JsonContent.Create(new { }) },
            })
            {
                using var response = await anonymous.SendAsync(request());
                Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
                var error = (await response.Content.ReadFromJsonAsync<JsonObject>())!["error"]!;
                Assert.Equal("invalid_api_key", (string?)error["code"]);
                Assert.Equal("invalid_request_error", (string?)error["type"]);
            }
        }
        // The backend's key is not the public one: the front door sends it, clients never do.
        var wrongKey = await Assert.ThrowsAsync<ClientResultException>(() =>
            Door.OpenAI(TestServer.Key).GetChatClient("tiny").CompleteChatAsync(Hello));
        Assert.Equal(401, wrongKey.Status);
    }

    [Fact]
    public async Task Both_key_headers_are_accepted()
    {
        // Authorization: Bearer, as the OpenAI client sends it.
        var models = await Door.OpenAI().GetOpenAIModelClient().GetModelsAsync();
        Assert.Contains(models.Value, m => m.Id == "tiny");
        // api-key, as Azure OpenAI clients send it.
        using var azureStyle = Door.Client(bearer: null);
        azureStyle.DefaultRequestHeaders.Add("api-key", FrontDoorHost.Key);
        using var response = await azureStyle.GetAsync("/api/v1/models");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var (status, chat) = await TestServer.PostAsync(azureStyle, "/api/v1/chat/completions", new { model = "tiny", messages = new[] { new { role = "user", content = "hi" } }, max_tokens = 2 });
        Assert.Equal(200, status);
        Assert.Equal("tiny", (string?)chat!["system_fingerprint"]);
    }

    [Fact]
    public async Task An_oversize_body_is_refused_with_413_whether_its_length_is_declared_or_chunked()
    {
        int limit = new Protocol.ServingLimits().MaxBodyBytes;
        var oversize = Encoding.UTF8.GetBytes("{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"" + new string('a', limit) + "\"}]}");
        // The dead door again: a 413 from it was not the backend's.
        foreach (var door in new[] { Door, fixture.DeadDoor })
        {
            foreach (bool chunked in new[] { false, true })
            {
                var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/chat/completions") { Content = new ByteArrayContent(oversize) };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                request.Headers.TransferEncodingChunked = chunked;
                using var response = await door.Http.SendAsync(request);
                Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
                var error = (await response.Content.ReadFromJsonAsync<JsonObject>())!["error"]!;
                Assert.Equal($"the request body is larger than {limit} bytes", (string?)error["message"]);
            }
        }
        // A body at the bound goes through to the backend, which judges its content (here: no such model).
        string prefix = "{\"model\":\"none\",\"messages\":[{\"role\":\"user\",\"content\":\"", suffix = "\"}]}";
        var atLimit = Encoding.UTF8.GetBytes(prefix + new string('a', limit - prefix.Length - suffix.Length) + suffix);
        Assert.Equal(limit, atLimit.Length);
        using var fits = await Door.Http.PostAsync("/api/v1/chat/completions", new ByteArrayContent(atLimit) { Headers = { ContentType = new("application/json") } });
        var backendSays = (await fits.Content.ReadFromJsonAsync<JsonObject>())!["error"]!;
        Assert.NotEqual(HttpStatusCode.RequestEntityTooLarge, fits.StatusCode);
        Assert.Equal("model", (string?)backendSays["param"]);
    }

    [Fact]
    public async Task The_backends_400s_come_through_unchanged()
    {
        var bad = await Assert.ThrowsAsync<ClientResultException>(() =>
            Door.OpenAI().GetChatClient("tiny").CompleteChatAsync(Hello, new ChatCompletionOptions { Temperature = 5 }));
        Assert.Equal(400, bad.Status);
        foreach (var body in new object[] { new { model = "tiny", messages = "not a list" }, new { model = "tiny", messages = new[] { new { role = "user", content = "hi" } }, top_p = 2 } })
        {
            var direct = await Backend.PostAsync("/v1/chat/completions", body);
            var forwarded = await TestServer.PostAsync(Door.Http, "/api/v1/chat/completions", body);
            Assert.Equal(400, forwarded.Status);
            Assert.Equal(direct.Body!.ToJsonString(), forwarded.Body!.ToJsonString());
        }
        using var notJson = await Door.Http.PostAsync("/api/v1/chat/completions", new StringContent("{not json", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, notJson.StatusCode);
        Assert.Equal("invalid_json", (string?)(await notJson.Content.ReadFromJsonAsync<JsonObject>())!["error"]!["code"]);
    }

    [Fact]
    public async Task A_streamed_chat_arrives_frame_for_frame_as_the_backend_sends_it()
    {
        var (directResponse, directReader) = await Backend.OpenStreamAsync("/v1/chat/completions", ChatBody);
        var direct = await TestServer.ReadEventsAsync(directReader);
        directResponse.Dispose();
        var (response, reader) = await Backend.OpenStreamAsync("/api/v1/chat/completions", ChatBody, via: Door.Http);
        using (response)
        {
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
            Assert.True(response.Headers.CacheControl!.NoCache);
            Assert.Equal("no", response.Headers.GetValues("X-Accel-Buffering").Single());
            var forwarded = await TestServer.ReadEventsAsync(reader);
            // Nothing after [DONE] but the blank line that ends it.
            Assert.Equal("", await reader.ReadLineAsync());
            Assert.Null(await reader.ReadLineAsync());

            // Greedy decoding: the same frames, apart from each response's own id and time.
            static string WithoutIdentity(JsonNode e) { var o = e.DeepClone().AsObject(); o.Remove("id"); o.Remove("created"); return o.ToJsonString(); }
            Assert.Equal(direct.Select(WithoutIdentity), forwarded.Select(WithoutIdentity));
            Assert.True(forwarded.Count >= 3, $"{forwarded.Count} events");
            Assert.Single(forwarded.Select(e => (string)e["id"]!).Distinct());
            var usage = forwarded[^1];
            Assert.Empty(usage["choices"]!.AsArray());
            Assert.Equal(12, (int)usage["usage"]!["completion_tokens"]!);
            Assert.Equal("length", (string?)forwarded[^2]["choices"]![0]!["finish_reason"]);
        }

        // The official client reads the forwarded stream as it reads the backend's.
        var client = Door.OpenAI().GetChatClient("tiny");
        var options = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 12 };
        var text = new StringBuilder();
        ChatTokenUsage? streamedUsage = null;
        await foreach (var update in client.CompleteChatStreamingAsync(Hello, options))
        {
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            streamedUsage ??= update.Usage;
        }
        ChatCompletion plain = await Backend.OpenAI().GetChatClient("tiny").CompleteChatAsync(Hello, options);
        Assert.Equal(plain.Content[0].Text, text.ToString());
        Assert.Equal(plain.Usage.OutputTokenCount, streamedUsage!.OutputTokenCount);
        Assert.Equal(plain.Usage.InputTokenCount, streamedUsage.InputTokenCount);
    }

    [Fact]
    public async Task A_plain_chat_equals_asking_the_backend_directly()
    {
        var options = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 16 };
        ChatCompletion direct = await Backend.OpenAI().GetChatClient("tiny").CompleteChatAsync(Hello, options);
        ChatCompletion forwarded = await Door.OpenAI().GetChatClient("tiny").CompleteChatAsync(Hello, options);
        Assert.Equal(direct.Content[0].Text, forwarded.Content[0].Text);
        Assert.Equal(direct.FinishReason, forwarded.FinishReason);
        Assert.Equal(direct.Usage.InputTokenCount, forwarded.Usage.InputTokenCount);
        Assert.Equal(direct.Usage.OutputTokenCount, forwarded.Usage.OutputTokenCount);
        Assert.Equal(direct.SystemFingerprint, forwarded.SystemFingerprint);
        Assert.Equal(direct.Model, forwarded.Model);
        Assert.NotEqual(direct.Id, forwarded.Id); // two requests reached the backend, not a cached answer
    }

    [Fact]
    public async Task Models_completions_and_feedback_are_forwarded()
    {
        var direct = await Backend.OpenAI().GetOpenAIModelClient().GetModelsAsync();
        var forwarded = await Door.OpenAI().GetOpenAIModelClient().GetModelsAsync();
        Assert.Equal(direct.Value.Select(m => (m.Id, m.OwnedBy, m.CreatedAt)), forwarded.Value.Select(m => (m.Id, m.OwnedBy, m.CreatedAt)));

        // Scoring a prompt, as lm-evaluation-harness does, gives the backend's log-probabilities.
        var scoring = new { model = "tiny", prompt = "The router restarts", max_tokens = 0, echo = true, logprobs = 1 };
        var scored = await Backend.OkAsync("/v1/completions", scoring);
        var (status, viaDoor) = await TestServer.PostAsync(Door.Http, "/api/v1/completions", scoring);
        Assert.Equal(200, status);
        Assert.Equal(scored["choices"]!.ToJsonString(), viaDoor!["choices"]!.ToJsonString());

        // Whatever the backend answers to feedback (its route may not exist yet) is what the client gets.
        var feedback = new { id = "chatcmpl-unknown", rating = 1 };
        var (directStatus, directBody) = await Backend.PostAsync("/v1/feedback", feedback);
        var (doorStatus, doorBody) = await TestServer.PostAsync(Door.Http, "/api/v1/feedback", feedback);
        Assert.Equal(directStatus, doorStatus);
        Assert.Equal(directBody?.ToJsonString(), doorBody?.ToJsonString());
    }

    [Fact]
    public async Task A_backend_that_is_down_is_a_502_in_OpenAIs_error_shape()
    {
        var down = await Assert.ThrowsAsync<ClientResultException>(() => fixture.DeadDoor.OpenAI().GetChatClient("tiny").CompleteChatAsync(Hello));
        Assert.Equal(502, down.Status);
        foreach (var body in new[] { ChatBody, new { model = "tiny", messages = new[] { new { role = "user", content = "hi" } }, max_tokens = 2 } })
        {
            var (status, json) = await TestServer.PostAsync(fixture.DeadDoor.Http, "/api/v1/chat/completions", body);
            Assert.Equal(502, status);
            var error = json!["error"]!.AsObject();
            Assert.Equal(["message", "type", "code"], error.Select(p => p.Key)); // param is null, left out as the backend leaves it out
            Assert.Equal("server_error", (string?)error["type"]);
            Assert.Equal("backend_unavailable", (string?)error["code"]);
        }
    }

    [Fact]
    public async Task A_client_that_leaves_mid_stream_cancels_the_backend_request()
    {
        var engine = Backend.App.Catalog.Names[0].Model.Engine;
        // Undisturbed, this seeded request runs to its full 240 tokens (the random model never samples an end token here),
        // so only a cancellation that travelled through the front door can end it early.
        var longRun = new { model = "tiny", messages = new[] { new { role = "user", content = "hi" } }, stream = true, temperature = 1, max_tokens = 240, seed = 7 };
        var (_, undisturbed) = await TestServer.PostAsync(Door.Http, "/api/v1/chat/completions", longRun with { stream = false });
        Assert.Equal("length", (string?)undisturbed!["choices"]![0]!["finish_reason"]);
        Assert.Equal(240, (int)undisturbed["usage"]!["completion_tokens"]!);
        long cancelledBefore = engine.Cancelled;

        // The first event arrives while the backend is still decoding (a buffering front door would deliver it only
        // after the 240th token, too late to cancel anything). This client closes its connection instead of draining it.
        using (var leaving = Door.Client(new SocketsHttpHandler { MaxResponseDrainSize = 0 }))
        {
            var (response, reader) = await Backend.OpenStreamAsync("/api/v1/chat/completions", longRun, via: leaving);
            Assert.StartsWith("data: ", await reader.ReadLineAsync());
            reader.Dispose();
            response.Dispose();
        }
        for (int i = 0; i < 500 && (engine.InFlight > 0 || engine.Cancelled == cancelledBefore); i++) await Task.Delay(20);
        Assert.Equal(0, engine.InFlight);
        Assert.Equal(cancelledBefore + 1, engine.Cancelled);
    }

    [Fact]
    public void The_app_settings_name_the_backend_and_both_keys()
    {
        var settings = new Dictionary<string, string?>
        {
            ["STUNE_STORAGE"] = "UseDevelopmentStorage=true", ["STUNE_CONTAINER"] = "artifacts",
            ["STUNE_JOB_SUBSCRIPTION_ID"] = "s", ["STUNE_JOB_RESOURCE_GROUP"] = "g", ["STUNE_JOB_NAME"] = "j",
            ["STUNE_JOB_CONTAINER"] = "c", ["STUNE_JOB_IMAGE"] = "i", ["STUNE_JOB_STORE"] = "http://127.0.0.1:10000/devstoreaccount1/artifacts",
            ["STUNE_SERVING_URL"] = "https://stune-serving.internal.example.azurecontainerapps.io",
            ["STUNE_API_KEY"] = "sk-public", ["STUNE_SERVING_API_KEY"] = "sk-backend",
        };
        FunctionAppOptions Read(string? key = null, string? value = null)
        {
            var copy = new Dictionary<string, string?>(settings);
            if (key is not null) copy[key] = value;
            return FunctionAppOptions.From(new ConfigurationBuilder().AddInMemoryCollection(copy).Build());
        }
        var door = Read().FrontDoor;
        Assert.Equal(new Uri("https://stune-serving.internal.example.azurecontainerapps.io"), door.BackendUrl);
        Assert.Equal(("sk-public", "sk-backend"), (door.ApiKey, door.BackendApiKey));
        foreach (var key in new[] { "STUNE_SERVING_URL", "STUNE_API_KEY", "STUNE_SERVING_API_KEY" })
            Assert.Equal($"app setting {key} is missing (see local.settings.sample.json)", Assert.Throws<InvalidOperationException>(() => Read(key, null)).Message);
        Assert.Equal("app setting STUNE_SERVING_URL: 'stune-serving' is not an http or https URL",
            Assert.Throws<InvalidOperationException>(() => Read("STUNE_SERVING_URL", "stune-serving")).Message);
    }
}
