using ServerlessTune.Core.Generation;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Tests.Generation;

public class TextGeneratorTests(TinyGpt2 tiny) : IClassFixture<TinyGpt2>
{
    static readonly GenerationOptions Greedy = new() { MaxNewTokens = 12 };
    static readonly GenerationOptions Sampled = new() { MaxNewTokens = 12, Temperature = 1.0, TopP = 0.9, TopK = 200, Seed = 42 };

    // No end tokens unless a test adds them, so runs have a known length.
    TextGenerator Generator(params int[] endTokens) => new(tiny.Model, tiny.Tokenizer, endTokens);

    int[] Prompt(string text) => tiny.Tokenizer.EncodePlain(text);

    GenerationResult One(string prompt, GenerationOptions options, params int[] endTokens) =>
        Generator(endTokens).Generate([Prompt(prompt)], options)[0];

    /// <summary>Greedy decoding by full recomputation, no cache: the reference the cached loop must match.</summary>
    int[] GreedyWithoutCache(int[] prompt, int count)
    {
        using var _ = no_grad();
        var ids = prompt.Select(i => (long)i).ToList();
        var result = new List<int>();
        for (int step = 0; step < count; step++)
        {
            using var input = tensor(ids.ToArray(), 1, ids.Count);
            using var logits = tiny.Model.forward(input);
            using var last = logits[0, -1, ..50257];
            var next = last.argmax().item<long>();
            result.Add((int)next);
            ids.Add(next);
        }
        return [.. result];
    }

    [Fact]
    public void Greedy_generation_with_the_cache_equals_full_recomputation_and_repeats()
    {
        var prompt = Prompt("The support team says");
        var first = Generator().Generate([prompt], Greedy)[0];
        Assert.Equal(GreedyWithoutCache(prompt, 12), first.TokenIds);
        Assert.Equal(FinishReason.Length, first.FinishReason);
        Assert.Equal(prompt.Length, first.PromptTokens);
        Assert.Equal(tiny.Tokenizer.Decode(first.TokenIds), first.Text);
        var again = Generator().Generate([prompt], Greedy)[0];
        Assert.Equal(first.TokenIds, again.TokenIds);
    }

    [Fact]
    public void Sampling_with_the_same_seed_repeats_and_another_seed_differs()
    {
        var a = One("Hello there", Sampled);
        var b = One("Hello there", Sampled);
        var c = One("Hello there", Sampled with { Seed = 43 });
        Assert.Equal(a.TokenIds, b.TokenIds);
        Assert.Equal(a.Text, b.Text);
        Assert.NotEqual(a.TokenIds, c.TokenIds);
    }

    [Fact]
    public void A_left_padded_batch_gives_each_prompt_what_it_gets_alone()
    {
        string[] prompts = ["Hi", "How do I reset my password on the portal?", "Refund policy:"];
        var batch = Generator().Generate(prompts.Select(Prompt).ToArray(), Greedy);
        for (int i = 0; i < prompts.Length; i++)
            Assert.Equal(One(prompts[i], Greedy).TokenIds, batch[i].TokenIds);

        var sampledBatch = Generator().Generate(prompts.Select(Prompt).ToArray(), Sampled);
        for (int i = 0; i < prompts.Length; i++)
            Assert.Equal(One(prompts[i], Sampled with { Seed = Sampled.Seed + i }).TokenIds, sampledBatch[i].TokenIds);
    }

    [Fact]
    public void Each_row_of_a_batch_stops_on_its_own_end_token()
    {
        string[] prompts = ["Hi", "Refund policy:"];
        var free = Generator().Generate(prompts.Select(Prompt).ToArray(), Greedy);
        var end = free[0].TokenIds[3];
        var stopped = Generator(end).Generate(prompts.Select(Prompt).ToArray(), Greedy);

        var firstEnd = Array.IndexOf(free[0].TokenIds, end);
        Assert.Equal(free[0].TokenIds[..firstEnd], stopped[0].TokenIds);
        Assert.Equal(FinishReason.Stop, stopped[0].FinishReason);
        Assert.Equal(tiny.Tokenizer.Decode(free[0].TokenIds[..firstEnd]), stopped[0].Text);
        var secondEnd = Array.IndexOf(free[1].TokenIds, end);
        Assert.Equal(secondEnd < 0 ? free[1].TokenIds : free[1].TokenIds[..secondEnd], stopped[1].TokenIds);
    }

    [Fact]
    public void Streamed_deltas_concatenate_to_the_final_text_of_every_row()
    {
        int[][] prompts = [Prompt("Order status"), Prompt("Where is my parcel")];
        var streamed = new[] { "", "" };
        var results = Generator().Generate(prompts, Sampled with { MaxNewTokens = 30 }, (row, delta) =>
        {
            Assert.NotEqual("", delta);
            Assert.False(char.IsHighSurrogate(delta[^1]), "a delta ended inside a surrogate pair");
            streamed[row] += delta;
        });
        Assert.Equal(results[0].Text, streamed[0]);
        Assert.Equal(results[1].Text, streamed[1]);
        Assert.Equal(tiny.Tokenizer.Decode(results[1].TokenIds), results[1].Text);
    }

    [Fact]
    public async Task StreamAsync_yields_the_same_text_as_Generate()
    {
        var prompt = Prompt("Order status");
        var options = Sampled with { MaxNewTokens = 20 };
        var expected = Generator().Generate([prompt], options)[0].Text;
        var deltas = new List<string>();
        await foreach (var delta in Generator().StreamAsync(prompt, options))
            deltas.Add(delta);
        Assert.True(deltas.Count > 1);
        Assert.Equal(expected, string.Concat(deltas));
    }

    [Fact]
    public void A_stop_string_spanning_two_tokens_cuts_the_text_before_it()
    {
        var free = One("Tell me a story", Greedy with { MaxNewTokens = 20 });
        var (boundary, stop) = StopAcrossATokenBoundary(free.TokenIds);
        var stopped = One("Tell me a story", Greedy with { MaxNewTokens = 20, StopStrings = [stop] });
        Assert.Equal(FinishReason.Stop, stopped.FinishReason);
        Assert.Equal(free.Text[..free.Text.IndexOf(stop, StringComparison.Ordinal)], stopped.Text);
        Assert.True(stopped.Text.Length <= boundary);
        Assert.Equal(free.TokenIds[..stopped.TokenIds.Length], stopped.TokenIds);
    }

    /// <summary>Four characters around a point where one token's text ends and the next begins.</summary>
    (int Boundary, string Stop) StopAcrossATokenBoundary(int[] ids)
    {
        var text = tiny.Tokenizer.Decode(ids);
        for (int k = 1; k < ids.Length; k++)
        {
            var before = tiny.Tokenizer.Decode(ids[..k]);
            if (before.Length < 2 || before.Contains('\uFFFD') || !text.StartsWith(before, StringComparison.Ordinal)) continue;
            if (text.Length < before.Length + 2 || before.Length == tiny.Tokenizer.Decode(ids[..(k - 1)]).Length) continue;
            var stop = text[(before.Length - 2)..(before.Length + 2)];
            if (!stop.Contains('\uFFFD') && !char.IsSurrogate(stop[0]) && !char.IsSurrogate(stop[^1]))
                return (before.Length, stop);
        }
        throw new InvalidOperationException($"no token boundary in '{text}'");
    }

    [Fact]
    public void Generation_never_runs_past_the_context_and_rejects_prompts_that_fill_it()
    {
        var prompt = Enumerable.Repeat(Prompt(" hello")[0], TinyGpt2.Context - 5).ToArray();
        var result = Generator().Generate([prompt], Greedy with { MaxNewTokens = 50 })[0];
        Assert.Equal(5, result.TokenIds.Length);
        Assert.Equal(FinishReason.Length, result.FinishReason);

        var full = Enumerable.Repeat(prompt[0], TinyGpt2.Context).ToArray();
        var error = Assert.Throws<UserInputException>(() => Generator().Generate([Prompt("ok"), full], Greedy));
        Assert.Contains("prompt 2 has 64 tokens", error.Message);
        Assert.Throws<UserInputException>(() => Generator().Generate([Array.Empty<int>()], Greedy));
        var outside = Assert.Throws<UserInputException>(() => Generator().Generate([[5, TinyGpt2.PaddedVocab]], Greedy));
        Assert.Contains("token id 50304", outside.Message);
    }

    [Fact]
    public void Padded_vocabulary_rows_without_text_are_never_generated()
    {
        var result = One("x", new GenerationOptions { MaxNewTokens = 60, Temperature = 5, Seed = 9 });
        Assert.All(result.TokenIds, id => Assert.InRange(id, 0, tiny.Tokenizer.VocabSize - 1));
    }

    [Fact]
    public void Repetition_penalty_changes_greedy_output_away_from_seen_tokens()
    {
        var plain = One("again and again and again", Greedy with { MaxNewTokens = 20 });
        var penalised = One("again and again and again", Greedy with { MaxNewTokens = 20, RepetitionPenalty = 1000 });
        // A huge penalty makes every seen token lose to any unseen one whose logit is positive.
        Assert.Equal(penalised.TokenIds.Length, penalised.TokenIds.Distinct().Count());
        Assert.NotEqual(plain.TokenIds, penalised.TokenIds);
    }

    [Fact]
    public void Cancellation_stops_generation()
    {
        using var cancel = new CancellationTokenSource();
        var deltas = 0;
        Assert.ThrowsAny<OperationCanceledException>(() => Generator().Generate([Prompt("Hi")], Greedy with { MaxNewTokens = 40 },
            (_, _) => { deltas++; cancel.Cancel(); }, cancel.Token));
        Assert.Equal(1, deltas);
    }

    [Fact]
    public async Task Leaving_a_stream_early_ends_the_generation()
    {
        var taken = 0;
        await foreach (var _ in Generator().StreamAsync(Prompt("Hi"), Greedy with { MaxNewTokens = 40 }))
            if (++taken == 2) break;
        Assert.Equal(2, taken);
    }

    [Fact]
    public async Task A_bad_prompt_surfaces_from_a_stream_as_the_user_error()
    {
        var error = await Assert.ThrowsAsync<UserInputException>(async () =>
        {
            await foreach (var _ in Generator().StreamAsync([], Greedy)) { }
        });
        Assert.Contains("prompt 1 is empty", error.Message);
    }

    [Fact]
    public void A_row_that_fills_the_context_stops_while_a_short_row_goes_on_past_its_length()
    {
        // GPT-2 has learned positions: a finished row fed past the context would index outside them.
        var nearlyFull = Enumerable.Repeat(Prompt(" hello")[0], TinyGpt2.Context - 4).ToArray();
        var options = Greedy with { MaxNewTokens = 30 };
        var batch = Generator().Generate([Prompt("Hi"), nearlyFull], options);
        Assert.Equal(4, batch[1].TokenIds.Length);
        Assert.Equal(Generator().Generate([nearlyFull], options)[0].TokenIds, batch[1].TokenIds);
        Assert.Equal(30, batch[0].TokenIds.Length);
        Assert.Equal(One("Hi", options).TokenIds, batch[0].TokenIds);
    }
}
