using System.Net;
using System.Net.Http.Json;
using OpenAI.Chat;
using ServerlessTune.Core.Feedback;
using ServerlessTune.Core.Storage;
using ServerlessTune.Core.Tests;
using OpenAIChatMessage = OpenAI.Chat.ChatMessage;

namespace ServerlessTune.Serving.Tests;

/// <summary>The tiny model served with a folder store that keeps the conversation and feedback logs.</summary>
public sealed class LoggingServer : IAsyncLifetime
{
    public TinyChatModel Model { get; } = new();
    public TempDir StoreFolder { get; } = new();
    public LocalFolderStore Store { get; private set; } = null!;
    public TestServer Server { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Store = new LocalFolderStore(StoreFolder.Path);
        Server = await TestServer.StartAsync(TestServer.Options(s => s with { ModelFolder = Model.Folder, MaxContext = 256 }), Store);
    }

    /// <summary>Every conversation record so far (after flushing what the server still holds).</summary>
    public async Task<List<ConversationRecord>> ConversationsAsync()
    {
        await Server.App.Conversations!.FlushAsync();
        return await DailyLogReader.RecordsAsync<ConversationRecord>(Store, ArtifactLayout.Conversations("tiny"));
    }

    public async Task<List<FeedbackRecord>> FeedbackAsync()
    {
        await Server.App.Conversations!.FlushAsync();
        return await DailyLogReader.RecordsAsync<FeedbackRecord>(Store, ArtifactLayout.Feedback("tiny"));
    }

    /// <summary>The raw text of every log file, to prove what never reached it.</summary>
    public string AllLogText() => string.Join("\n", Directory.EnumerateFiles(StoreFolder.Path, "*", SearchOption.AllDirectories).Select(File.ReadAllText));

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        Model.Dispose();
        StoreFolder.Dispose();
    }
}

public sealed class ConversationLogTests(LoggingServer shared) : IClassFixture<LoggingServer>
{
    const string Email = "jane.doe@example.com", Card = "4111 1111 1111 1111", Phone = "+44 20 7946 0958";

    [Fact]
    public async Task A_served_chat_is_logged_with_its_answer_usage_timings_and_metadata_and_its_pii_redacted()
    {
        var client = shared.Server.OpenAI().GetChatClient("tiny");
        var options = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 6 };
        options.Metadata["ticket"] = "T-1 from " + Email;
        OpenAIChatMessage[] messages = [new UserChatMessage($"My email is {Email}, card {Card}, call {Phone}. My router blinks.")];
        ChatCompletion answer = await client.CompleteChatAsync(messages, options);
        var streamed = new System.Text.StringBuilder();
        string? streamedId = null;
        await foreach (var update in client.CompleteChatStreamingAsync(messages, options))
        {
            streamedId ??= update.CompletionId;
            foreach (var part in update.ContentUpdate) streamed.Append(part.Text);
        }

        var records = await shared.ConversationsAsync();
        var record = Assert.Single(records, r => r.Id == answer.Id);
        Assert.Equal(ConversationRecord.Chat, record.Endpoint);
        Assert.Equal(("tiny", "tiny", "tiny"), (record.Project, record.Version, record.Model));
        Assert.True(record.Stored);
        Assert.Equal(answer.Content[0].Text, Assert.Single(record.Choices).Text);
        Assert.Equal("length", record.Choices[0].FinishReason);
        Assert.Equal((answer.Usage.InputTokenCount, answer.Usage.OutputTokenCount), (record.PromptTokens, record.CompletionTokens));
        Assert.True(record.TtftMs is > 0 && record.TtftMs <= record.LatencyMs, $"ttft {record.TtftMs}, latency {record.LatencyMs}");
        var user = Assert.Single(record.Messages!);
        Assert.Equal("user", user.Role);
        Assert.Equal("My email is [EMAIL], card [CARD], call [PHONE]. My router blinks.", user.Content);
        Assert.Equal("T-1 from [EMAIL]", record.Metadata!["ticket"]);
        Assert.Equal(4, record.Redacted);
        Assert.Equal(streamed.ToString(), Assert.Single(records, r => r.Id == streamedId).Choices[0].Text);

        var text = shared.AllLogText();
        Assert.DoesNotContain(Email, text);
        Assert.DoesNotContain(Card, text);
        Assert.DoesNotContain("7946", text);
    }

    [Fact]
    public async Task Store_false_logs_counts_only_and_legacy_completions_are_logged_too()
    {
        const string secret = "my secret router password is hunter2";
        var body = new
        {
            model = "tiny", store = false, max_tokens = 4, temperature = 0,
            metadata = new { note = "private note" },
            messages = new[] { new { role = "user", content = secret } },
        };
        var reply = await shared.Server.OkAsync("/v1/chat/completions", body);
        var completion = await shared.Server.OkAsync("/v1/completions", new { model = "tiny", prompt = "Fiber outage in", max_tokens = 3 });

        var records = await shared.ConversationsAsync();
        var counted = Assert.Single(records, r => r.Id == (string)reply["id"]!);
        Assert.False(counted.Stored);
        Assert.Null(counted.Messages);
        Assert.Null(counted.Metadata);
        Assert.Null(Assert.Single(counted.Choices).Text);
        Assert.Equal("length", counted.Choices[0].FinishReason);
        Assert.Equal(4, counted.CompletionTokens);
        Assert.True(counted.PromptTokens > 0);
        var text = shared.AllLogText();
        Assert.DoesNotContain("hunter2", text);
        Assert.DoesNotContain("private note", text);
        Assert.DoesNotContain((string)reply["choices"]![0]!["message"]!["content"]!, text);

        var legacy = Assert.Single(records, r => r.Id == (string)completion["id"]!);
        Assert.Equal(ConversationRecord.Completion, legacy.Endpoint);
        Assert.Equal(["Fiber outage in"], legacy.Prompts!);
        Assert.Equal((string)completion["choices"]![0]!["text"]!, legacy.Choices[0].Text);
    }

    [Fact]
    public async Task A_refused_request_is_logged_as_an_error_of_its_kind()
    {
        var (status, _) = await shared.Server.PostAsync("/v1/chat/completions", new
        {
            model = "tiny", max_tokens = 255, messages = new[] { new { role = "user", content = "a rather long question about my router" } },
        });
        Assert.Equal(400, status);
        var records = await shared.ConversationsAsync();
        Assert.Contains(records, r => r.Error is { Status: 400, Kind: "context_length_exceeded" } && r.Version == "tiny");
    }

    [Fact]
    public async Task Feedback_is_stored_for_a_served_completion_and_the_latest_rating_wins()
    {
        var reply = await shared.Server.OkAsync("/v1/chat/completions", new
        {
            model = "tiny", max_tokens = 3, messages = new[] { new { role = "user", content = "Is there an outage?" } },
        });
        string id = (string)reply["id"]!;
        var first = await shared.Server.OkAsync("/v1/feedback", new { completion_id = id, rating = 1 });
        Assert.Equal(("feedback", "tiny", 1), ((string)first["object"]!, (string)first["version"]!, (int)first["rating"]!));
        await shared.Server.OkAsync("/v1/feedback", new
        {
            completion_id = id, rating = -1, comment = $"wrong, mail me at {Email}", correction = "No outage is reported in your area.",
        });

        var stored = (await shared.FeedbackAsync()).Where(f => f.CompletionId == id).ToList();
        Assert.Equal(2, stored.Count);
        var latest = Assert.Single(FeedbackRecord.Latest(stored));
        Assert.Equal((-1, "tiny", "No outage is reported in your area."), (latest.Rating, latest.Project, latest.Correction));
        Assert.Equal("wrong, mail me at [EMAIL]", latest.Comment);
        Assert.DoesNotContain(Email, shared.AllLogText());
        Assert.All(Directory.EnumerateFiles(shared.StoreFolder.Path, "*", SearchOption.AllDirectories)
            .Where(f => f.Contains($"{Path.DirectorySeparatorChar}feedback{Path.DirectorySeparatorChar}")),
            f => Assert.Matches(@"feedback/tiny/\d{4}-\d{2}-\d{2}/[^/]+-\d{8}\.jsonl$", f.Replace('\\', '/')));
    }

    [Fact]
    public async Task Feedback_is_refused_for_unknown_ids_bad_fields_big_bodies_and_without_the_key()
    {
        var (status, body) = await shared.Server.PostAsync("/v1/feedback", new { completion_id = "chatcmpl-nope", rating = 1 });
        Assert.Equal(404, status);
        Assert.Equal(("completion_id", "completion_not_found"), ((string)body!["error"]!["param"]!, (string)body["error"]!["code"]!));

        (status, body) = await shared.Server.PostAsync("/v1/feedback", new { completion_id = "chatcmpl-x", rating = 0 });
        Assert.Equal((400, "rating"), (status, (string)body!["error"]!["param"]!));
        (status, body) = await shared.Server.PostAsync("/v1/feedback", new { completion_id = "chatcmpl-x", rating = "up" });
        Assert.Equal((400, "rating"), (status, (string)body!["error"]!["param"]!));
        (status, body) = await shared.Server.PostAsync("/v1/feedback", new { rating = 1 });
        Assert.Equal((400, "completion_id"), (status, (string)body!["error"]!["param"]!));

        (status, body) = await shared.Server.PostAsync("/v1/feedback", new { completion_id = "chatcmpl-x", rating = 1, comment = new string('x', 70_000) });
        Assert.Equal(413, status);
        Assert.Contains("65536", (string)body!["error"]!["message"]!);

        using var anonymous = new HttpClient { BaseAddress = shared.Server.App.Address };
        using var refused = await anonymous.PostAsJsonAsync("/v1/feedback", new { completion_id = "chatcmpl-x", rating = 1 });
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }
}
