using System.ClientModel;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using OpenAI.Chat;
using ServerlessTune.Core.Feedback;
using ServerlessTune.Core.Hosted;
using ServerlessTune.Core.Hosting;
using ServerlessTune.Core.Registry;
using ServerlessTune.Core.Storage;
using ServerlessTune.Serving.Hosted;
using ServerlessTune.Serving.Tests.FrontDoor;
using ServerlessTune.Workflow.Tests.Hosted;

namespace ServerlessTune.Serving.Tests.Hosted;

/// <summary>
/// `stune serve` over a registry whose project a hosted service fine-tuned: the official OpenAI client asks our endpoint,
/// and the loopback Azure OpenAI / OpenAI server, speaking their documented chat completions protocol, answers.
/// </summary>
public sealed class HostedServingTests
{
    const string Project = HostedServing.Project;
    static readonly ChatMessage[] Question = [new SystemChatMessage("You are Harbor Fiber's assistant."), new UserChatMessage("My fiber light is red")];
    static readonly object StreamBody = new
    {
        model = Project, messages = new[] { new { role = "user", content = "My fiber light is red" } }, stream = true,
        stream_options = new { include_usage = true },
    };

    [Fact]
    public async Task A_hosted_project_is_answered_by_its_Azure_OpenAI_deployment_plain_and_streamed()
    {
        await using var hosted = await HostedServing.StartAsync();
        await hosted.DeployAsync("v1", HostedServing.Azure(HostedServing.TunedA, "harbor-production"));
        await using var server = await hosted.ServeAsync();

        ChatCompletion plain = await server.OpenAI().GetChatClient(Project).CompleteChatAsync(Question);
        Assert.Equal(LoopbackOpenAI.BaseAnswer, plain.Content[0].Text);
        Assert.Equal(HostedServing.TunedA, plain.Model); // the service's response, unchanged
        var sent = Assert.Single(hosted.ChatRequests);
        Assert.Equal("/openai/deployments/harbor-production/chat/completions", sent.Path);
        Assert.Equal($"?api-version={HostedUpstreams.AzureApiVersion}", sent.Query);
        Assert.Equal("harbor-production", (string?)JsonNode.Parse(sent.Body)!["model"]);
        Assert.Equal("You are Harbor Fiber's assistant.", (string?)JsonNode.Parse(sent.Body)!["messages"]![0]!["content"]);
        // Our key was checked here and went no further; the service got its own.
        Assert.Contains($"api-key: {LoopbackOpenAI.AzureKey}", sent.Headers);
        Assert.DoesNotContain(TestServer.Key, sent.Headers);

        // Streamed: the service's events, frame for frame (each response has its own id and time).
        var (response, reader) = await server.OpenStreamAsync("/v1/chat/completions", StreamBody);
        List<JsonNode> forwarded;
        using (response)
        {
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
            forwarded = await TestServer.ReadEventsAsync(reader);
        }
        using var direct = new HttpClient { BaseAddress = hosted.Upstream.PlainRoot };
        direct.DefaultRequestHeaders.Add("api-key", LoopbackOpenAI.AzureKey);
        using var directResponse = await direct.PostAsJsonAsync($"/openai/deployments/harbor-production/chat/completions?api-version={HostedUpstreams.AzureApiVersion}",
            new { model = "harbor-production", messages = new[] { new { role = "user", content = "My fiber light is red" } }, stream = true, stream_options = new { include_usage = true } });
        var expected = await TestServer.ReadEventsAsync(new StreamReader(await directResponse.Content.ReadAsStreamAsync()));
        static string WithoutIdentity(JsonNode e) { var o = e.DeepClone().AsObject(); o.Remove("id"); o.Remove("created"); return o.ToJsonString(); }
        Assert.Equal(expected.Select(WithoutIdentity), forwarded.Select(WithoutIdentity));
        Assert.Equal(9, (int)forwarded[^1]["usage"]!["completion_tokens"]!);

        // The official client reads the stream as it reads the plain answer.
        var text = new StringBuilder();
        await foreach (var update in server.OpenAI().GetChatClient(Project).CompleteChatStreamingAsync(Question))
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
        Assert.Equal(plain.Content[0].Text, text.ToString());
    }

    [Fact]
    public async Task The_callers_key_is_checked_here_and_nothing_of_the_callers_reaches_the_service()
    {
        await using var hosted = await HostedServing.StartAsync();
        await hosted.DeployAsync("v1", HostedServing.Azure(HostedServing.TunedA, "harbor-production"));
        await using var server = await hosted.ServeAsync();

        var wrong = await Assert.ThrowsAsync<ClientResultException>(() => server.OpenAI("sk-wrong").GetChatClient(Project).CompleteChatAsync(Question));
        Assert.Equal(401, wrong.Status);
        using var anonymous = new HttpClient { BaseAddress = server.App.Address };
        using var refused = await anonymous.PostAsJsonAsync("/v1/chat/completions", new { model = Project, messages = new[] { new { role = "user", content = "hi" } } });
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Empty(hosted.ChatRequests);

        // A client's headers that could pick the service's account or project stay here; the service's account headers stay there.
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = JsonContent.Create(new { model = Project, messages = new[] { new { role = "user", content = "hi" } } }),
        };
        request.Headers.Add("OpenAI-Organization", "org-someone-else");
        request.Headers.Add("Cookie", "session=abc");
        using var answered = await server.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        var sent = Assert.Single(hosted.ChatRequests);
        Assert.DoesNotContain("org-someone-else", sent.Headers);
        Assert.DoesNotContain("session=abc", sent.Headers);
        Assert.DoesNotContain(LoopbackOpenAI.AzureKey, string.Join("\n", answered.Headers.Concat(answered.Content.Headers).SelectMany(h => h.Value)));
        Assert.DoesNotContain(LoopbackOpenAI.AzureKey, await answered.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_services_errors_come_back_with_their_status_and_OpenAIs_error_shape()
    {
        await using var hosted = await HostedServing.StartAsync();
        await hosted.DeployAsync("v1", HostedServing.Azure(HostedServing.TunedA, "harbor-production"));
        await using var server = await hosted.ServeAsync();
        var body = new { model = Project, messages = new[] { new { role = "user", content = "hi" } } };

        hosted.Upstream.Fail("POST", "/chat/completions", 429, retryAfterMs: 1500);
        using var limited = await server.Http.PostAsJsonAsync("/v1/chat/completions", body);
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal("1500", limited.Headers.GetValues("retry-after-ms").Single());
        var error = (await limited.Content.ReadFromJsonAsync<JsonObject>())!["error"]!;
        Assert.Equal(("rate_limit_exceeded", "requests"), ((string?)error["code"], (string?)error["type"]));

        hosted.Upstream.Fail("POST", "/chat/completions", 400, message: "This model's maximum context length is 128000 tokens.");
        var tooLong = await Assert.ThrowsAsync<ClientResultException>(() => server.OpenAI().GetChatClient(Project).CompleteChatAsync(Question));
        Assert.Equal(400, tooLong.Status);
        Assert.Contains("This model's maximum context length is 128000 tokens.", tooLong.Message);

        // Both failures are in the conversation log with the service's status and code.
        var logged = await LoggedAsync(server, hosted.Store, count: 2);
        Assert.Equal([(429, "rate_limit_exceeded"), (400, "invalid_request_error")], logged.Select(r => (r.Error!.Status, r.Error.Kind)));
    }

    [Fact]
    public async Task A_service_that_cannot_be_reached_is_a_502_and_one_not_configured_a_503_naming_the_setting()
    {
        await using var hosted = await HostedServing.StartAsync();
        await hosted.DeployAsync("v1", HostedServing.Azure(HostedServing.TunedA, "harbor-production"));
        var body = new { model = Project, messages = new[] { new { role = "user", content = "hi" } } };

        var down = hosted.Upstreams with { Endpoints = hosted.Upstreams.Endpoints with { AzureEndpoint = FrontDoorHost.NothingListening() } };
        await using (var server = await hosted.ServeAsync(down))
        {
            var (status, json) = await server.PostAsync("/v1/chat/completions", body);
            Assert.Equal(502, status);
            Assert.Equal(("server_error", "upstream_unavailable"), ((string?)json!["error"]!["type"], (string?)json["error"]!["code"]));
        }
        await using (var server = await hosted.ServeAsync(new HostedUpstreams()))
        {
            var (status, json) = await server.PostAsync("/v1/chat/completions", body);
            Assert.Equal(503, status);
            Assert.Equal("upstream_not_configured", (string?)json!["error"]!["code"]);
            Assert.Contains(HostedEnvironment.AzureEndpoint, (string?)json["error"]!["message"]);
        }
    }

    [Fact]
    public async Task Moving_the_alias_to_another_hosted_version_sends_the_next_request_to_its_deployment()
    {
        await using var hosted = await HostedServing.StartAsync();
        await hosted.DeployAsync("v1", HostedServing.Azure(HostedServing.TunedA, "harbor-a"));
        await using var server = await hosted.ServeAsync();
        var chat = server.OpenAI().GetChatClient(Project);
        Assert.Equal(HostedServing.TunedA, (await chat.CompleteChatAsync(Question)).Value.Model);

        await hosted.DeployAsync("v2", HostedServing.Azure(HostedServing.TunedB, "harbor-b"));
        string? model = null;
        for (int i = 0; i < 100 && model != HostedServing.TunedB; i++)
        {
            await Task.Delay(50);
            model = (await chat.CompleteChatAsync(Question)).Value.Model;
        }
        Assert.Equal(HostedServing.TunedB, model);
        Assert.Equal("/openai/deployments/harbor-b/chat/completions", hosted.ChatRequests[^1].Path);
        Assert.Equal(HostedServing.TunedB, (await server.OpenAI().GetChatClient($"{Project}@v2").CompleteChatAsync(Question)).Value.Model);
        // v1 is no longer named by any alias.
        var gone = await Assert.ThrowsAsync<ClientResultException>(() => server.OpenAI().GetChatClient($"{Project}@v1").CompleteChatAsync(Question));
        Assert.Equal(404, gone.Status);

        // An openai: version: api.openai.com's protocol, the fine-tuned model's id in the body, OpenAI's bearer key.
        const string openAIModel = "ft:gpt-4o-mini-2024-07-18:org-loopback:harbor:abc123";
        await hosted.DeployAsync("v3", new HostedVersion(HostedBaseModel.OpenAI, openAIModel, null), ModelRegistry.Staging);
        var staging = server.OpenAI().GetChatClient($"{Project}:staging");
        ClientResult<ChatCompletion>? answer = null;
        for (int i = 0; i < 100 && answer is null; i++)
        {
            await Task.Delay(50);
            try { answer = await staging.CompleteChatAsync(Question); }
            catch (ClientResultException e) when (e.Status == 404) { }
        }
        Assert.Equal(openAIModel, answer!.Value.Model);
        var sent = hosted.ChatRequests[^1];
        Assert.Equal("/v1/chat/completions", sent.Path);
        Assert.Equal(openAIModel, (string?)JsonNode.Parse(sent.Body)!["model"]);
        Assert.Contains($"Authorization: Bearer {LoopbackOpenAI.OpenAIKey}", sent.Headers);
    }

    [Fact]
    public async Task Models_and_health_list_hosted_projects()
    {
        await using var hosted = await HostedServing.StartAsync();
        await hosted.DeployAsync("v1", HostedServing.Azure(HostedServing.TunedA, "harbor-production"));
        await hosted.DeployAsync("v2", HostedServing.Azure(HostedServing.TunedB, "harbor-staging"), ModelRegistry.Staging);
        await using var server = await hosted.ServeAsync();

        var models = (await server.OpenAI().GetOpenAIModelClient().GetModelsAsync()).Value;
        Assert.Equal(["harbor", "harbor:staging", "harbor@v1", "harbor@v2"], models.Select(m => m.Id));
        Assert.All(models, m => Assert.Equal(Project, m.OwnedBy));
        var health = (await server.Http.GetFromJsonAsync<JsonObject>("/health"))!;
        Assert.Equal("ok", (string?)health["status"]);
        Assert.Empty(health["problems"]!.AsArray()); // a hosted version is not a failed load
        Assert.Contains(health["models"]!.AsArray(), m => (string?)m!["source"] == "azure-openai:harbor-staging");
    }

    [Fact]
    public async Task A_hosted_answer_is_logged_under_the_services_completion_id_and_can_be_rated()
    {
        await using var hosted = await HostedServing.StartAsync();
        await hosted.DeployAsync("v1", HostedServing.Azure(HostedServing.TunedA, "harbor-production"));
        await using var server = await hosted.ServeAsync();

        ChatCompletion plain = await server.OpenAI().GetChatClient(Project).CompleteChatAsync(Question);
        string? streamedId = null;
        await foreach (var update in server.OpenAI().GetChatClient(Project).CompleteChatStreamingAsync(Question)) streamedId ??= update.CompletionId;
        var logged = await LoggedAsync(server, hosted.Store, count: 2);
        Assert.Equal([plain.Id, streamedId], logged.Select(r => r.Id));
        Assert.All(logged, r =>
        {
            Assert.Equal(("v1", Project, ConversationRecord.Chat), (r.Version, r.Model, r.Endpoint));
            Assert.Equal(LoopbackOpenAI.BaseAnswer, Assert.Single(r.Choices).Text);
            Assert.Equal("stop", r.Choices[0].FinishReason);
            Assert.Equal("My fiber light is red", r.Messages![^1].Content);
        });
        Assert.Equal((12, 9), (logged[0].PromptTokens, logged[0].CompletionTokens));

        var receipt = await server.OkAsync("/v1/feedback", new { completion_id = streamedId, rating = -1, correction = "Restart the router, then check the cable." });
        Assert.Equal((Project, "v1"), ((string?)receipt["project"], (string?)receipt["version"]));
    }

    [Fact]
    public async Task Without_a_key_the_hosts_Entra_ID_token_is_sent()
    {
        await using var hosted = await HostedServing.StartAsync();
        await hosted.DeployAsync("v1", HostedServing.Azure(HostedServing.TunedA, "harbor-production"));
        var scopes = new List<string>();
        var entra = hosted.Upstreams with
        {
            Endpoints = hosted.Upstreams.Endpoints with { AzureKey = null },
            AzureToken = _ => ValueTask.FromResult(LoopbackOpenAI.EntraToken),
        };
        await using var server = await hosted.ServeAsync(entra);
        ChatCompletion answer = await server.OpenAI().GetChatClient(Project).CompleteChatAsync(Question);
        Assert.Equal(HostedServing.TunedA, answer.Model);
        var sent = Assert.Single(hosted.ChatRequests);
        Assert.Contains($"Authorization: Bearer {LoopbackOpenAI.EntraToken}", sent.Headers);
        Assert.DoesNotContain("api-key", sent.Headers);
    }

    [Fact]
    public async Task The_stune_serve_command_forwards_with_the_settings_of_its_environment()
    {
        await using var hosted = await HostedServing.StartAsync();
        await hosted.DeployAsync("v1", HostedServing.Azure(HostedServing.TunedA, "harbor-production"));
        var start = StuneProcess.StartInfo("serve", "--store", hosted.Store.Location, "--port", "0", "--api-key", TestServer.Key);
        start.Environment[HostedEnvironment.AzureEndpoint] = hosted.Upstream.PlainRoot.ToString();
        start.Environment[HostedEnvironment.AzureKey] = LoopbackOpenAI.AzureKey;
        using var process = System.Diagnostics.Process.Start(start)!;
        try
        {
            Uri? address = null;
            using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            while (address is null && await process.StandardError.ReadLineAsync(deadline.Token) is { } line)
                if (System.Text.RegularExpressions.Regex.Match(line, @"serving .* on (http://\S+?)/? \(") is { Success: true } a) address = new Uri(a.Groups[1].Value);
            var client = new OpenAI.OpenAIClient(new ApiKeyCredential(TestServer.Key), new OpenAI.OpenAIClientOptions { Endpoint = new Uri(address!, "/v1") });
            var text = new StringBuilder();
            await foreach (var update in client.GetChatClient(Project).CompleteChatStreamingAsync(Question))
                foreach (var part in update.ContentUpdate) text.Append(part.Text);
            Assert.Equal(LoopbackOpenAI.BaseAnswer, text.ToString());
            Assert.Equal("/openai/deployments/harbor-production/chat/completions", Assert.Single(hosted.ChatRequests).Path);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    [Fact]
    public void Serve_reads_the_services_settings_under_the_SDKs_names()
    {
        var env = new Dictionary<string, string?>
        {
            [HostedEnvironment.AzureEndpoint] = "https://stune-oai.openai.azure.com/", [HostedEnvironment.OpenAIKey] = "sk-openai",
        };
        var endpoints = ServingOptions.FromEnvironment(n => env.GetValueOrDefault(n)).Hosted.Endpoints;
        Assert.Equal(new HostedEndpoints(null, "sk-openai", new Uri("https://stune-oai.openai.azure.com/"), null), endpoints);
        env[HostedEnvironment.OpenAIBaseUrl] = "api.openai.com";
        var bad = Assert.Throws<Core.UserInputException>(() => ServingOptions.FromEnvironment(n => env.GetValueOrDefault(n)));
        Assert.Equal("OPENAI_BASE_URL: 'api.openai.com' is not an http(s) URL", bad.Message);
    }

    /// <summary>
    /// The log once it holds <paramref name="count"/> records, or after 30 s: a forwarded answer is logged when its
    /// last byte has gone to the client, so the client can finish reading before the record is appended.
    /// </summary>
    static async Task<List<ConversationRecord>> LoggedAsync(TestServer server, IArtifactStore store, int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            await server.App.Conversations!.FlushAsync();
            var logged = await ReadLogAsync(store);
            if (logged.Count >= count || DateTime.UtcNow > deadline) return logged;
            await Task.Delay(50);
        }
    }

    internal static async Task<List<ConversationRecord>> ReadLogAsync(IArtifactStore store)
    {
        var records = new List<ConversationRecord>();
        await foreach (var line in DailyLogReader.ReadAsync<ConversationRecord>(store, ArtifactLayout.Conversations(Project)))
            records.Add(line.Record!);
        return [.. records.OrderBy(r => r.Created)];
    }
}
