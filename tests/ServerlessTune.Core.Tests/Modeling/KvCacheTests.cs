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

    static double MaxDiff(Tensor a, Tensor b)
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
}
