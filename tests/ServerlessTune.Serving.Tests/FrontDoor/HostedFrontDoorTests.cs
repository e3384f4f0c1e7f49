using System.ClientModel;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using OpenAI.Chat;
using ServerlessTune.Serving.Tests.Hosted;
using ServerlessTune.Workflow.Tests.Hosted;

namespace ServerlessTune.Serving.Tests.FrontDoor;

/// <summary>
/// The Functions app's public endpoint, through its function class, for a project a hosted service fine-tuned: its
/// requests go straight to the service through the serving core's forwarder. The backend these front doors name is a
/// port nothing listens on, so every answer that arrives came from the service, not through the backend.
/// </summary>
public sealed class HostedFrontDoorTests
{
    const string Project = HostedServing.Project;
    static readonly ChatMessage[] Question = [new UserChatMessage("My fiber light is red")];

    [Fact]
    public async Task A_hosted_projects_requests_go_straight_to_its_service_plain_and_streamed()
    {
        await using var hosted = await HostedServing.StartAsync();
        await hosted.DeployAsync("v1", HostedServing.Azure(HostedServing.TunedA, "harbor-production"));
        await using var door = await FrontDoorHost.StartAsync(FrontDoorHost.NothingListening(), store: hosted.Store, hosted: hosted.Upstreams);

        var chat = door.OpenAI().GetChatClient(Project);
        ChatCompletion plain = await chat.CompleteChatAsync(Question);
        Assert.Equal((LoopbackOpenAI.BaseAnswer, HostedServing.TunedA), (plain.Content[0].Text, plain.Model));
        var text = new StringBuilder();
        await foreach (var update in chat.CompleteChatStreamingAsync(Question))
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
        Assert.Equal(plain.Content[0].Text, text.ToString());
        Assert.All(hosted.ChatRequests, r =>
        {
            Assert.Equal("/openai/deployments/harbor-production/chat/completions", r.Path);
            Assert.Contains($"api-key: {LoopbackOpenAI.AzureKey}", r.Headers);
            Assert.DoesNotContain(FrontDoorHost.Key, r.Headers);
        });
        Assert.Equal(2, hosted.ChatRequests.Count);

        // The answer went into the same conversation log as the backend's answers.
        for (int i = 0; i < 100 && (await HostedServingTests.ReadLogAsync(hosted.Store)).Count < 2; i++) await Task.Delay(50);
        Assert.Contains(await HostedServingTests.ReadLogAsync(hosted.Store), r => r.Id == plain.Id && r.Version == "v1");

        // Any other model still goes to the backend (which is down here).
        var (status, json) = await TestServer.PostAsync(door.Http, "/api/v1/chat/completions", new { model = "tiny", messages = new[] { new { role = "user", content = "hi" } } });
        Assert.Equal(502, status);
        Assert.Equal("backend_unavailable", (string?)json!["error"]!["code"]);
    }

    [Fact]
    public async Task The_key_errors_a_service_that_is_down_and_alias_moves_behave_as_in_stune_serve()
    {
        await using var hosted = await HostedServing.StartAsync();
        await hosted.DeployAsync("v1", HostedServing.Azure(HostedServing.TunedA, "harbor-a"));
        await using var door = await FrontDoorHost.StartAsync(FrontDoorHost.NothingListening(), store: hosted.Store, hosted: hosted.Upstreams);
        var body = new { model = Project, messages = new[] { new { role = "user", content = "hi" } } };

        using (var anonymous = door.Client(bearer: null))
        using (var refused = await anonymous.PostAsJsonAsync("/api/v1/chat/completions", body))
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Empty(hosted.ChatRequests);

        hosted.Upstream.Fail("POST", "/chat/completions", 400, message: "The response was filtered due to the prompt triggering content management policy.");
        var (status, json) = await TestServer.PostAsync(door.Http, "/api/v1/chat/completions", body);
        Assert.Equal(400, status);
        Assert.Equal("The response was filtered due to the prompt triggering content management policy.", (string?)json!["error"]!["message"]);

        await hosted.DeployAsync("v2", HostedServing.Azure(HostedServing.TunedB, "harbor-b"));
        string? model = null;
        for (int i = 0; i < 100 && model != HostedServing.TunedB; i++)
        {
            await Task.Delay(50);
            model = (await door.OpenAI().GetChatClient(Project).CompleteChatAsync(Question)).Value.Model;
        }
        Assert.Equal(HostedServing.TunedB, model);
        Assert.Equal("/openai/deployments/harbor-b/chat/completions", hosted.ChatRequests[^1].Path);

        var down = hosted.Upstreams with { Endpoints = hosted.Upstreams.Endpoints with { AzureEndpoint = FrontDoorHost.NothingListening() } };
        await using var cutOff = await FrontDoorHost.StartAsync(FrontDoorHost.NothingListening(), store: hosted.Store, hosted: down);
        var (downStatus, downJson) = await TestServer.PostAsync(cutOff.Http, "/api/v1/chat/completions", body);
        Assert.Equal(502, downStatus);
        Assert.Equal("upstream_unavailable", (string?)downJson!["error"]!["code"]);
    }
}
