using ServerlessTune.Core.Generation;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Tests.Generation;

public class TokenSamplerTests
{
    static Tensor NoneSeen(int rows, int vocab) => zeros(rows, vocab, ScalarType.Bool);

    static long[] Draw(TokenSampler sampler, Tensor logits, int count)
    {
        using var seen = NoneSeen((int)logits.shape[0], (int)logits.shape[1]);
        return Enumerable.Range(0, count).Select(_ => sampler.Next(logits, seen)[0]).ToArray();
    }

    static Tensor LogProbabilities(params double[] p) => tensor(p.Select(x => (float)Math.Log(x)).ToArray(), 1, p.Length);

    [Fact]
    public void Greedy_takes_each_rows_argmax()
    {
        using var sampler = new TokenSampler(new GenerationOptions(), 2);
        using var logits = tensor(new float[] { 0, 5, 1, 3, 0, 1 }, 2, 3);
        using var seen = NoneSeen(2, 3);
        Assert.Equal(new long[] { 1, 0 }, sampler.Next(logits, seen));
    }

    [Fact]
    public void Greedy_applies_the_repetition_penalty_first()
    {
        using var sampler = new TokenSampler(new GenerationOptions { RepetitionPenalty = 2 }, 1);
        using var logits = tensor(new float[] { 4, 3 }, 1, 2);
        using var seen = tensor(new[] { true, false }, 1, 2);
        Assert.Equal(new long[] { 1 }, sampler.Next(logits, seen));
    }

    [Fact]
    public void Same_seed_repeats_and_another_seed_differs()
    {
        using var logits = zeros(1, 50);
        var options = new GenerationOptions { Temperature = 1, Seed = 7 };
        using var first = new TokenSampler(options, 1);
        using var again = new TokenSampler(options, 1);
        using var other = new TokenSampler(options with { Seed = 8 }, 1);
        var a = Draw(first, logits, 30);
        Assert.Equal(a, Draw(again, logits, 30));
        Assert.NotEqual(a, Draw(other, logits, 30));
        Assert.True(a.Distinct().Count() > 10, "uniform logits should give varied tokens");
    }

    [Fact]
    public void Row_r_of_a_batch_draws_like_that_row_alone_with_seed_plus_r()
    {
        using var batch = new TokenSampler(new GenerationOptions { Temperature = 1, Seed = 7 }, 2);
        using var alone = new TokenSampler(new GenerationOptions { Temperature = 1, Seed = 8 }, 1);
        using var logits2 = zeros(2, 40);
        using var logits1 = zeros(1, 40);
        using var seen2 = NoneSeen(2, 40);
        using var seen1 = NoneSeen(1, 40);
        for (int step = 0; step < 20; step++)
            Assert.Equal(alone.Next(logits1, seen1)[0], batch.Next(logits2, seen2)[1]);
    }

    [Fact]
    public void Samples_follow_the_softmax_distribution()
    {
        using var sampler = new TokenSampler(new GenerationOptions { Temperature = 1, Seed = 1 }, 1);
        using var logits = LogProbabilities(0.7, 0.2, 0.1);
        var counts = new int[3];
        foreach (var t in Draw(sampler, logits, 4000)) counts[t]++;
        Assert.InRange(counts[0] / 4000.0, 0.67, 0.73);
        Assert.InRange(counts[1] / 4000.0, 0.17, 0.23);
        Assert.InRange(counts[2] / 4000.0, 0.08, 0.12);
    }

    [Fact]
    public void Top_p_sampling_only_draws_from_the_nucleus_renormalised()
    {
        using var sampler = new TokenSampler(new GenerationOptions { Temperature = 1, TopP = 0.75, Seed = 3 }, 1);
        using var logits = LogProbabilities(0.5, 0.3, 0.15, 0.05);
        var counts = new int[4];
        foreach (var t in Draw(sampler, logits, 4000)) counts[t]++;
        Assert.Equal(0, counts[2] + counts[3]);
        Assert.InRange(counts[0] / 4000.0, 0.60, 0.65); // 0.5 / 0.8
    }

    [Fact]
    public void Top_k_one_sampling_is_greedy()
    {
        using var sampler = new TokenSampler(new GenerationOptions { Temperature = 1.5, TopK = 1, Seed = 5 }, 1);
        using var logits = LogProbabilities(0.3, 0.4, 0.3);
        Assert.All(Draw(sampler, logits, 50), t => Assert.Equal(1, t));
    }

    [Theory]
    [InlineData(0, 0, 1, 0, 1, "max new tokens")]
    [InlineData(10, -1, 1, 0, 1, "temperature")]
    [InlineData(10, 1, 0, 0, 1, "top-p")]
    [InlineData(10, 1, 1.5, 0, 1, "top-p")]
    [InlineData(10, 1, 1, -2, 1, "top-k")]
    [InlineData(10, 1, 1, 0, 0, "repetition penalty")]
    public void Bad_settings_are_user_errors_naming_the_setting(int max, double t, double p, int k, double r, string named)
    {
        var options = new GenerationOptions { MaxNewTokens = max, Temperature = t, TopP = p, TopK = k, RepetitionPenalty = r };
        var error = Assert.Throws<UserInputException>(() => new TokenSampler(options, 1));
        Assert.Contains(named, error.Message);
    }

    [Fact]
    public void An_empty_stop_string_is_a_user_error()
    {
        var error = Assert.Throws<UserInputException>(() => new GenerationOptions { StopStrings = ["x", ""] }.Validate());
        Assert.Contains("stop string 2", error.Message);
    }
}
