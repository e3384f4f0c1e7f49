using ServerlessTune.Core.Modeling;
using ServerlessTune.Core.Modeling.Kernels;
using ServerlessTune.Core.Modeling.Layers;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Tests.Modeling.Kernels;

/// <summary>The .NET norm and rotary of a decode step compute what torch's ops compute (which training and prefill run).</summary>
public sealed class DecodeOpsTests
{
    // Inference takes the .NET op; with autograd on, the same module runs torch's ops.
    static (Tensor Fast, Tensor Torch) BothWays(Func<Tensor> forward)
    {
        Tensor fast, reference;
        using (no_grad()) fast = forward();
        using (enable_grad()) reference = forward().detach();
        return (fast, reference);
    }

    /// <summary>Equal shapes and every element within <paramref name="tolerance"/> times the largest magnitude (at least 1).</summary>
    internal static void AssertClose(Tensor expected, Tensor actual, double tolerance, string what = "")
    {
        Assert.Equal(expected.shape, actual.shape);
        var scale = Math.Max(1, expected.abs().max().item<float>());
        var error = (expected - actual).abs().max().item<float>();
        Assert.True(error <= tolerance * scale, $"{what}max difference {error}, allowed {tolerance * scale}");
    }

    [Theory]
    [InlineData(1, 1, 64)]
    [InlineData(3, 1, 37)]
    [InlineData(2, 5, 512)]
    public void Rms_norm_equals_torch_s_ops(long batch, long length, long dim)
    {
        manual_seed(11);
        using var norm = new RmsNorm(dim, 1e-5, ScalarType.Float32);
        using (no_grad()) norm.parameters().First().copy_(randn(dim) * 0.3 + 1);
        var x = randn(batch, length, dim) * 2;
        using (no_grad()) Assert.True(DecodeOps.Accepts(x, norm.parameters().First()));
        var (fast, reference) = BothWays(() => norm.forward(x));
        AssertClose(reference, fast, 1e-6);
    }

    [Theory]
    [InlineData(false, 64, 64)]
    [InlineData(false, 64, 32)]
    [InlineData(true, 64, 64)]
    [InlineData(true, 48, 16)]
    public void Rotary_equals_torch_s_ops_in_both_layouts_with_and_without_a_pass_through_tail(bool interleaved, int headDim, int rotaryDim)
    {
        manual_seed(12);
        var rotary = new RotaryEmbedding(rotaryDim, 10000, scaling: null, interleaved);
        // Three rows at different positions (a batch whose sequences have different lengths), one new token each.
        var positions = tensor(new long[] { 5, 0, 130 }).unsqueeze(1);
        var (cos, sin) = rotary.Compute(positions, ScalarType.Float32);
        var x = randn(3, 4, 1, headDim);
        using (no_grad()) Assert.True(DecodeOps.Accepts(x, cos, sin));
        var (fast, reference) = BothWays(() => rotary.Apply(x, cos, sin));
        AssertClose(reference, fast, 1e-6);
    }

    [Theory]
    [InlineData(4, 4, false)]
    [InlineData(8, 2, true)]
    [InlineData(6, 1, true)]
    public void Attention_over_a_strided_cache_equals_torch_s_sdpa_with_grouped_heads_and_a_mask(int heads, int kvHeads, bool masked)
    {
        manual_seed(13);
        const int batch = 3, length = 21, dim = 40;
        var q = randn(batch, 1, heads * dim).view(batch, 1, heads, dim).transpose(1, 2);
        // Views into a larger cache, as a slot cache hands them out: rows and positions narrowed.
        var cache = randn([2, batch + 2, kvHeads, length + 9, dim]);
        var k = cache[0].narrow(0, 1, batch).narrow(2, 0, length);
        var v = cache[1].narrow(0, 1, batch).narrow(2, 0, length);
        Tensor? mask = null;
        if (masked)
        {
            // Each row sees its own prefix (sequences of different lengths), one row only its first position.
            var lengths = tensor(new long[] { length, 7, 1 }).view(batch, 1, 1, 1);
            mask = arange(length).view(1, 1, 1, length) < lengths;
        }
        var context = new AttentionContext(zeros(batch, 1, ScalarType.Int64), mask, IsCausal: false, PastLength: length - 1);
        using (no_grad()) Assert.True(DecodeOps.AcceptsAttention(q, k, v, mask));
        var (fast, reference) = BothWays(() => ScaledDotProductAttention.Attend(q, k, v, context, cache: null, layer: 0, dropout: 0));
        AssertClose(reference, fast, 1e-6);
    }

    [Fact]
    public void Training_prefill_sized_and_non_fp32_inputs_keep_torch_s_ops()
    {
        var weight = ones(64);
        using (no_grad())
        {
            Assert.False(DecodeOps.Accepts(randn(PackedWeight.MaxKernelRows * 16384 / 64 + 1, 64), weight));
            Assert.False(DecodeOps.Accepts(randn(1, 64).to(ScalarType.BFloat16), weight));
            Assert.False(DecodeOps.Accepts(randn(64, 2).t(), weight));
        }
        Assert.False(DecodeOps.Accepts(randn(1, 64), weight));
    }
}
