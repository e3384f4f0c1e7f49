using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using ServerlessTune.Core;
using ServerlessTune.Core.Feedback;
using ServerlessTune.Core.Tokenization;
using ServerlessTune.Serving.Engine;
using ServerlessTune.Serving.Logging;
using ServerlessTune.Serving.Models;
using ServerlessTune.Serving.Protocol;

namespace ServerlessTune.Serving.Http;

/// <summary>POST /v1/chat/completions: the conversation through the model's chat template, plain or streamed.</summary>
sealed class ChatEndpoint(ModelCatalog catalog, ServingLimits limits, ConversationLog? log, ServingMetrics metrics)
{
    public async Task HandleAsync(HttpContext http, JsonElement body)
    {
        var request = ChatCompletionRequest.Parse(body, limits);
        var trace = new CompletionTrace(metrics, log, ConversationRecord.Chat, request.Model, request.Store ?? true, request.Metadata);
        using var lease = catalog.Acquire(request.Model);
        var served = lease.Model;
        await trace.RunAsync(served, http.RequestAborted, () => AnswerAsync(http, request, served, trace));
    }

    async Task AnswerAsync(HttpContext http, ChatCompletionRequest request, ServedModel served, CompletionTrace trace)
    {
        var chat = served.Model;
        int[] prompt;
        try
        {
            // Message text is encoded as plain text: a user typing a special token's text gets ordinary ids.
            prompt = chat.EncodeChat(request.Messages);
        }
        catch (UserInputException ex)
        {
            throw ProtocolException.BadValue("messages", ex.Message);
        }
        int max = Choices.MaxNewTokens(request.MaxTokens, chat.Defaults, prompt.Length, served.Engine.MaxContext, "messages",
            request.MaxTokensParam);
        long seed = Choices.Seed(request.Sampling);
        var sequences = Enumerable.Range(0, request.Sampling.N).Select(i => new SequenceRequest
        {
            Prompt = prompt,
            Options = chat.ForChat(request.Sampling.Options(chat.Defaults, max, seed, i)),
            TopLogprobs = request.Logprobs ? request.TopLogprobs : null,
        }).ToArray();
        var ct = http.RequestAborted;
        var readers = Choices.Submit(served.Engine, sequences, ct);
        var id = trace.Id = Choices.NewId("chatcmpl-");
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        if (request.Sampling.Stream)
        {
            await StreamAsync(http, request, served, readers, id, created, prompt.Length, trace, ct);
            return;
        }
        var results = await Choices.CollectAsync(readers, trace, ct);
        var choices = results.Select((r, i) => new ChatChoice(i, new AssistantMessage(r.Text.ToString()),
            request.Logprobs ? new ChatLogprobs(r.Tokens.Select(t => Logprob(chat.Tokenizer, t.Logprob!)).ToArray()) : null,
            Choices.FinishReason(r.Finish!.Reason))).ToArray();
        var usage = new Usage(prompt.Length, results.Sum(r => r.Finish!.CompletionTokens));
        await http.Response.WriteAsJsonAsync(new ChatCompletion(id, created, request.Model, served.Version, choices, usage), ProtocolJson.Options, ct);
        trace.Answered(served, usage, Choices.Logged(results), messages: request.Messages);
    }

    static async Task StreamAsync(HttpContext http, ChatCompletionRequest request, ServedModel served,
        IReadOnlyList<System.Threading.Channels.ChannelReader<SequenceEvent>> readers, string id, long created, int promptTokens,
        CompletionTrace trace, CancellationToken ct)
    {
        var results = readers.Select(_ => new ChoiceResult()).ToArray();
        var sse = new ServerSentEvents(http.Response);
        await sse.StartAsync();
        ChatCompletionChunk Chunk(params ChatChunkChoice[] choices) => new(id, created, request.Model, served.Version, choices);
        for (int i = 0; i < readers.Count; i++)
            await sse.SendAsync(Chunk(new ChatChunkChoice(i, new ChatDelta("assistant", ""), null, null)), ct);
        int completionTokens = 0;
        await foreach (var (index, e) in Choices.MergeAsync(readers, ct))
        {
            results[index].Add(e, trace);
            switch (e)
            {
                case TokenGenerated t when t.Text.Length > 0 || request.Logprobs:
                    var logprobs = request.Logprobs ? new ChatLogprobs([Logprob(served.Model.Tokenizer, t.Logprob!)]) : null;
                    await sse.SendAsync(Chunk(new ChatChunkChoice(index, new ChatDelta(null, t.Text), logprobs, null)), ct);
                    break;
                case SequenceFinished f:
                    completionTokens += f.CompletionTokens;
                    if (f.Text.Length > 0)
                        await sse.SendAsync(Chunk(new ChatChunkChoice(index, new ChatDelta(null, f.Text), null, null)), ct);
                    await sse.SendAsync(Chunk(new ChatChunkChoice(index, new ChatDelta(null, null), null, Choices.FinishReason(f.Reason))), ct);
                    break;
            }
        }
        var usage = new Usage(promptTokens, completionTokens);
        if (request.Sampling.IncludeUsage)
            await sse.SendAsync(Chunk() with { Usage = usage }, ct);
        await sse.DoneAsync(ct);
        trace.Answered(served, usage, Choices.Logged(results), messages: request.Messages);
    }

    static int[] Utf8(string text) => [.. Encoding.UTF8.GetBytes(text).Select(b => (int)b)];

    static ChatTokenLogprob Logprob(ITextTokenizer tokenizer, TokenLogprob lp)
    {
        var text = Choices.TokenText(tokenizer, lp.Id);
        return new ChatTokenLogprob(text, lp.Logprob, Utf8(text),
            lp.Top.Select(t =>
            {
                var alternative = Choices.TokenText(tokenizer, t.Id);
                return new ChatTopLogprob(alternative, t.Logprob, Utf8(alternative));
            }).ToArray());
    }
}
