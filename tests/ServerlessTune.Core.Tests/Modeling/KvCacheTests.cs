using ServerlessTune.Core.Modeling;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Tests.Modeling;

public class KvCacheTests
{
    const double Tolerance = 1e-4;

    static Tensor RandomIds(long batch, long length, long seed)
    {
        using var generator = new Generator((ulong)seed, CPU);
        return randint(0, 97, [batch, length], dtype: int64, generator: generator);
    }

    internal static double MaxDiff(Tensor a, Tensor b)
    {
        using var diff = (a - b).abs().max();
        return diff.item<float>();
    }

    [Theory]
    [MemberData(nameof(ModelFixtures.TinyArchitectures), MemberType = typeof(ModelFixtures))]
    public void Decoding_with_cache_equals_full_recomputation(string arch)
    {
        using var model = ModelFixtures.TinyModel(arch);
        using var noGrad = no_grad();
        using var ids = RandomIds(2, 16, seed: 7);
        using var full = model.forward(ids);

        // prefill 4, a chunk of 4 on top of the cache, then 8 single tokens
        using var cache = model.NewCache();
        foreach (var (start, length) in new[] { (0, 4), (4, 4) }.Concat(Enumerable.Range(8, 8).Select(i => (i, 1))))
        {
            using var logits = model.forward(ids.narrow(1, start, length), cache: cache);
            Assert.Equal(start + length, cache.Length);
            var diff = MaxDiff(logits, full.narrow(1, start, length));
            Assert.True(diff < Tolerance, $"{arch}: positions {start}..{start + length - 1} differ by {diff}");
        }
    }

    [Theory]
    [MemberData(nameof(ModelFixtures.TinyArchitectures), MemberType = typeof(ModelFixtures))]
    public void Left_padded_batch_gives_each_prompt_its_own_logits(string arch)
    {
        using var model = ModelFixtures.TinyModel(arch);
        using var noGrad = no_grad();
        long[] lengths = [3, 8, 5];
        var prompts = lengths.Select((n, i) => RandomIds(1, n, seed: 100 + i)).ToArray();
        var width = lengths.Max();
        using var ids = cat(prompts.Select(p => nn.functional.pad(p, new long[] { width - p.shape[1], 0 }, value: 0)).ToArray(), 0);
        using var mask = cat(lengths.Select(n => cat([zeros(1, width - n, dtype: int64), ones(1, n, dtype: int64)], 1)).ToArray(), 0);

        // Prefill the padded batch, then decode 3 more tokens with the cache; compare to each prompt alone.
        using var batchCache = model.NewCache();
        var batchLogits = new List<Tensor> { model.forward(ids, mask, batchCache).narrow(1, width - 1, 1) };
        var next = RandomIds(3, 3, seed: 9);
        var fullMask = mask;
        for (var step = 0; step < 3; step++)
        {
            fullMask = cat([fullMask, ones(3, 1, dtype: int64)], 1);
            batchLogits.Add(model.forward(next.narrow(1, step, 1), fullMask, batchCache));
        }

        for (var i = 0; i < lengths.Length; i++)
        {
            using var alone = model.forward(cat([prompts[i], next[i].unsqueeze(0)], 1));
            for (var step = 0; step <= 3; step++)
            {
                var diff = MaxDiff(batchLogits[step][i], alone.narrow(1, lengths[i] - 1 + step, 1)[0]);
                Assert.True(diff < Tolerance, $"{arch}: prompt {i} step {step} differs by {diff}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(ModelFixtures.TinyArchitectures), MemberType = typeof(ModelFixtures))]
    public void Next_token_logits_are_the_last_position_of_forward(string arch)
    {
        using var model = ModelFixtures.TinyModel(arch);
        using var noGrad = no_grad();
        using var ids = RandomIds(2, 12, seed: 3);
        using var full = model.forward(ids);
        using var last = model.NextTokenLogits(ids);
        Assert.Equal([2, full.shape[2]], last.shape);
        var diff = MaxDiff(last, full[.., -1, ..]);
        Assert.True(diff < Tolerance, $"{arch}: last-position logits differ by {diff}");
    }

    [Theory]
    [MemberData(nameof(ModelFixtures.TinyArchitectures), MemberType = typeof(ModelFixtures))]
    public void A_slot_cache_decodes_rows_of_different_lengths_as_each_prompt_alone(string arch)
    {
        using var model = ModelFixtures.TinyModel(arch);
        using var noGrad = no_grad();
        using var cache = new SlotKvCache(model.Config, model.DType, slots: 3, positions: 32);
        long[] lengths = [4, 9, 7];
        var prompts = lengths.Select((n, i) => RandomIds(1, n, seed: 200 + i)).ToArray();
        var prefilled = new Tensor[3];
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(i, cache.Acquire());
            cache.Select(i, 1);
            prefilled[i] = model.NextTokenLogits(prompts[i], cache: cache);
        }
        // The middle sequence leaves: its row runs as scratch, and the others must not notice.
        cache.Release(1);
        Assert.Equal(3, cache.End);
        using var next = RandomIds(3, 4, seed: 11);
        var decoded = new List<Tensor>();
        for (int step = 0; step < 4; step++)
        {
            cache.Select(0, cache.End);
            decoded.Add(model.NextTokenLogits(next.narrow(1, step, 1), cache: cache));
        }
        Assert.Equal([lengths[0] + 4, 0, lengths[2] + 4], Enumerable.Range(0, 3).Select(cache.LengthOf));

        foreach (var i in new[] { 0, 2 })
        {
            using var alone = model.forward(cat([prompts[i], next[i].unsqueeze(0)], 1));
            var diff = MaxDiff(prefilled[i][0], alone[0, lengths[i] - 1]);
            for (int step = 0; step < 4; step++)
                diff = Math.Max(diff, MaxDiff(decoded[step][i], alone[0, lengths[i] + step]));
            Assert.True(diff < Tolerance, $"{arch}: slot {i} differs from its prompt alone by {diff}");
        }
        // A freed slot is reused first, empty.
        Assert.Equal(1, cache.Acquire());
        Assert.Equal(0, cache.LengthOf(1));
    }

    [Fact]
    public void A_slot_cache_refuses_a_pass_beyond_its_positions_and_an_attention_mask()
    {
        using var model = ModelFixtures.TinyModel("llama");
        using var noGrad = no_grad();
        using var cache = new SlotKvCache(model.Config, model.DType, slots: 1, positions: 8);
        cache.Acquire();
        cache.Select(0, 1);
        using var ids = RandomIds(1, 9, seed: 5);
        Assert.Throws<ArgumentException>(() => model.NextTokenLogits(ids, cache: cache));
        using var mask = ones(1, 4, dtype: int64);
        Assert.Throws<ArgumentException>(() => model.NextTokenLogits(ids.narrow(1, 0, 4), mask, cache));
    }
}
