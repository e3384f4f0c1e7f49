using System.Text.Json;
using Microsoft.AspNetCore.Http;
using ServerlessTune.Core.Feedback;
using ServerlessTune.Core.Generation;
using ServerlessTune.Core.Tokenization;
using ServerlessTune.Serving.Engine;
using ServerlessTune.Serving.Logging;
using ServerlessTune.Serving.Models;
using ServerlessTune.Serving.Protocol;

namespace ServerlessTune.Serving.Http;

/// <summary>
/// POST /v1/completions: continues raw text or token ids, no chat template. With echo and logprobs the prompt's
/// tokens are scored too (the first has no context, so its entries are null), in the legacy parallel-list shape.
/// </summary>
sealed class CompletionEndpoint(ModelCatalog catalog, ServingLimits limits, ConversationLog? log, ServingMetrics metrics)
{
    public async Task HandleAsync(HttpContext http, JsonElement body)
    {
        var request = CompletionRequest.Parse(body, limits);
        var trace = new CompletionTrace(metrics, log, ConversationRecord.Completion, request.Model, request.Store ?? true, request.Metadata);
        using var lease = catalog.Acquire(request.Model);
        var served = lease.Model;
        await trace.RunAsync(served, http.RequestAborted, () => AnswerAsync(http, request, served, trace));
    }

    async Task AnswerAsync(HttpContext http, CompletionRequest request, ServedModel served, CompletionTrace trace)
    {
        var chat = served.Model;
        var tokenizer = chat.Tokenizer;
        var vocab = chat.Generator.Model.Config.VocabSize;
        var prompts = request.Prompts.Select((p, i) =>
        {
            // Prompt text never becomes special tokens.
            var ids = p.Ids ?? tokenizer.EncodePlain(p.Text!);
            string param = request.Prompts.Count == 1 ? "prompt" : $"prompt[{i}]";
            if (ids.Length == 0) throw ProtocolException.BadValue(param, "encodes to no tokens");
            if (ids.FirstOrDefault(id => id >= vocab, -1) is var bad and >= 0)
                throw ProtocolException.BadValue(param, $"token id {bad} is outside the model's vocabulary of {vocab}");
            return ids;
        }).ToArray();
        long seed = Choices.Seed(request.Sampling);
        int n = request.Sampling.N;
        var sequences = new List<SequenceRequest>();
        foreach (var ids in prompts)
        {
            int max = Choices.MaxNewTokens(request.MaxTokens, GenerationConfig.Empty, ids.Length, served.Engine.MaxContext, "prompt", "max_tokens");
            for (int i = 0; i < n; i++)
                sequences.Add(new SequenceRequest
                {
                    Prompt = ids,
                    Options = request.Sampling.Options(chat.Defaults, max, seed, i),
                    TopLogprobs = request.Logprobs,
                    PromptLogprobs = request.Echo && request.Logprobs is not null,
                });
        }
        var ct = http.RequestAborted;
        var readers = Choices.Submit(served.Engine, sequences, ct);
        var id = trace.Id = Choices.NewId("cmpl-");
        var promptTexts = prompts.Select(p => tokenizer.Decode(p)).ToArray();
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        TextCompletion Response(IReadOnlyList<TextChoice> choices, Usage? usage) => new(id, created, request.Model, served.Version, choices, usage);
        int promptTokens = prompts.Sum(p => p.Length) * n;

        if (request.Sampling.Stream)
        {
            var sse = new ServerSentEvents(http.Response);
            await sse.StartAsync();
            if (request.Echo)
                for (int i = 0; i < sequences.Count; i++)
                    await sse.SendAsync(Response([new TextChoice(i, tokenizer.Decode(sequences[i].Prompt), null, null)], null), ct);
            int completionTokens = 0;
            var streamed = readers.Select(_ => new ChoiceResult()).ToArray();
            await foreach (var (index, e) in Choices.MergeAsync(readers, ct))
            {
                streamed[index].Add(e, trace);
                if (e is TokenGenerated t && t.Text.Length > 0)
                    await sse.SendAsync(Response([new TextChoice(index, t.Text, null, null)], null), ct);
                else if (e is SequenceFinished f)
                {
                    completionTokens += f.CompletionTokens;
                    await sse.SendAsync(Response([new TextChoice(index, f.Text, null, Choices.FinishReason(f.Reason))], null), ct);
                }
            }
            var streamedUsage = new Usage(promptTokens, completionTokens);
            if (request.Sampling.IncludeUsage)
                await sse.SendAsync(Response([], streamedUsage), ct);
            await sse.DoneAsync(ct);
            trace.Answered(served, streamedUsage, Choices.Logged(streamed), prompts: promptTexts);
            return;
        }

        var results = await Choices.CollectAsync(readers, trace, ct);
        var choices = results.Select((r, i) =>
        {
            var echoed = request.Echo ? tokenizer.Decode(sequences[i].Prompt) : "";
            var logprobs = request.Logprobs is null ? null : Logprobs(tokenizer, request.Echo ? sequences[i].Prompt : [], r);
            return new TextChoice(i, echoed + r.Text, logprobs, Choices.FinishReason(r.Finish!.Reason));
        }).ToArray();
        var usage = new Usage(promptTokens, results.Sum(r => r.Finish!.CompletionTokens));
        await http.Response.WriteAsJsonAsync(Response(choices, usage), ProtocolJson.Options, ct);
        trace.Answered(served, usage, Choices.Logged(results), prompts: promptTexts);
    }

    /// <summary>Echoed prompt tokens (scored from the second on) then generated tokens, with text offsets.</summary>
    static TextLogprobs Logprobs(ITextTokenizer tokenizer, int[] echoed, ChoiceResult result)
    {
        var entries = new List<(int Id, TokenLogprob? Score)>();
        for (int i = 0; i < echoed.Length; i++)
            entries.Add((echoed[i], i == 0 ? null : result.Prompt!.Tokens[i - 1]));
        entries.AddRange(result.Tokens.Select(t => (t.Id, t.Logprob)));
        var offsets = new List<int>();
        var decoder = new IncrementalDecoder(tokenizer.Decode);
        foreach (var (tokenId, _) in entries)
        {
            offsets.Add(decoder.TextLength);
            decoder.Push(tokenId);
        }
        return new TextLogprobs(
            entries.Select(e => Choices.TokenText(tokenizer, e.Id)).ToArray(),
            entries.Select(e => e.Score?.Logprob).ToArray(),
            entries.Select(e => e.Score is { } s ? Top(tokenizer, s) : null).ToArray(),
            offsets);
    }

    /// <summary>The alternatives by token text; the chosen token is always among them (as OpenAI returns it).</summary>
    static Dictionary<string, float> Top(ITextTokenizer tokenizer, TokenLogprob score)
    {
        var top = new Dictionary<string, float>();
        foreach (var (id, logprob) in score.Top) top.TryAdd(Choices.TokenText(tokenizer, id), logprob);
        top.TryAdd(Choices.TokenText(tokenizer, score.Id), score.Logprob);
        return top;
    }
}
