using System.Text.Json.Nodes;
using ServerlessTune.Core.Tokenization;

namespace ServerlessTune.Serving.Tests;

/// <summary>
/// Every hf-reference checkpoint through /v1/completions: echo scoring equals Transformers' target_logprobs
/// within 1e-4 and the greedy continuation equals its greedy_ids, alone and while 8 other requests share the batch.
/// </summary>
public sealed class ReferenceCheckpointTests
{
    const double Tolerance = 1e-4;

    sealed record Reference(int[] PromptIds, int[] GreedyIds, int[] SequenceIds, double[] TargetLogprobs);

    static Reference Load(string arch)
    {
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(Fixtures.HfReference(arch), "reference.json")))!;
        int[] Ints(string key) => json[key]!.AsArray().Select(n => (int)n!).ToArray();
        return new Reference(Ints("prompt_ids"), Ints("greedy_ids"), Ints("sequence_ids"),
            json["target_logprobs"]!.AsArray().Select(n => (double)n!).ToArray());
    }

    [Theory]
    [MemberData(nameof(Fixtures.ReferenceArchitectures), MemberType = typeof(Fixtures))]
    public async Task Echo_scores_and_greedy_ids_equal_Transformers_alone_and_in_a_shared_batch(string arch)
    {
        var folder = Path.Combine(Fixtures.HfReference(arch), "model");
        var reference = Load(arch);
        var tokenizer = TokenizerLoader.Load(folder);
        await using var server = await TestServer.ForFolderAsync(folder);

        await AssertMatchesAsync(server, reference, tokenizer, arch, "alone");

        // The checked prompt as the first of nine in one request: the engine admits the nine together, so every
        // decode step of the checked sequence runs in a batch of nine rows of different lengths. Eight separate
        // requests run at the same time as well.
        var others = Enumerable.Range(0, 8).Select(i => reference.SequenceIds.Skip(i).Take(3 + i).ToArray()).ToArray();
        var concurrent = others.Select(prompt => server.OkAsync("/v1/completions", new
        {
            model = "model", prompt, max_tokens = 40, temperature = 0.8, seed = 5, stream = false,
        })).ToArray();
        await AssertMatchesAsync(server, reference, tokenizer, arch, "beside 8 others", others);
        await Task.WhenAll(concurrent);
    }

    static async Task AssertMatchesAsync(TestServer server, Reference reference, ITextTokenizer tokenizer, string arch, string when,
        int[][]? batchedWith = null)
    {
        int[][] prompts = [reference.PromptIds, .. batchedWith ?? []];
        var greedy = await server.OkAsync("/v1/completions", new
        {
            model = "model", prompt = prompts, max_tokens = reference.GreedyIds.Length, temperature = 0, logprobs = 0,
        });
        Assert.Equal(prompts.Length, greedy["choices"]!.AsArray().Count);
        var choice = greedy["choices"]![0]!;
        var tokens = choice["logprobs"]!["tokens"]!.AsArray().Select(t => (string)t!).ToArray();
        Assert.Equal(reference.GreedyIds.Select(id => tokenizer.Decode([id])).ToArray(), tokens);
        Assert.Equal(tokenizer.Decode(reference.GreedyIds), (string)choice["text"]!);
        Assert.Equal("length", (string?)choice["finish_reason"]);

        var scored = await server.OkAsync("/v1/completions", new
        {
            model = "model", prompt = (int[][])[reference.SequenceIds, .. batchedWith ?? []], max_tokens = 0, echo = true, logprobs = 1,
        });
        var logprobs = scored["choices"]![0]!["logprobs"]!;
        var tokenLogprobs = logprobs["token_logprobs"]!.AsArray();
        Assert.Null(tokenLogprobs[0]);
        Assert.Equal(reference.SequenceIds.Length, tokenLogprobs.Count);
        for (int i = 0; i < reference.TargetLogprobs.Length; i++)
        {
            var got = (double)tokenLogprobs[i + 1]!;
            Assert.True(Math.Abs(got - reference.TargetLogprobs[i]) < Tolerance,
                $"{arch} {when}: position {i + 1} log-prob {got} vs Transformers {reference.TargetLogprobs[i]}");
        }
    }
}
