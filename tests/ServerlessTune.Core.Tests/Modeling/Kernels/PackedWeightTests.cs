using ServerlessTune.Core.Modeling;
using ServerlessTune.Core.Modeling.Kernels;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Tests.Modeling.Kernels;

/// <summary>The .NET decode kernel against torch's linear on the weights each format holds.</summary>
[Collection(nameof(KernelPathCollection))]
public class PackedWeightTests
{
    // Shapes with tails: inputs not a multiple of 8 lanes, outputs not a multiple of 4 rows or of a thread's chunk.
    public static TheoryData<int, int, int, bool> Shapes => new()
    {
        { 1, 64, 32, false }, { 1, 513, 131, true }, { 3, 37, 9, true }, { 7, 256, 1030, false }, { 16, 100, 67, true },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Fp32_kernel_equals_torch_linear_within_1e_5_relative(int rows, int inFeatures, int outFeatures, bool bias) =>
        AssertAllPaths(WeightFormat.Fp32, rows, inFeatures, outFeatures, bias);

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Bf16_kernel_equals_torch_linear_on_the_rounded_weights(int rows, int inFeatures, int outFeatures, bool bias) =>
        AssertAllPaths(WeightFormat.Bf16, rows, inFeatures, outFeatures, bias);

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Int8_kernel_equals_torch_linear_on_the_dequantized_weights(int rows, int inFeatures, int outFeatures, bool bias) =>
        AssertAllPaths(WeightFormat.Int8, rows, inFeatures, outFeatures, bias);

    [Fact]
    public void Bf16_packing_rounds_to_nearest_even_as_torch_does()
    {
        // 1 + 2^-8 is halfway between two bf16 values with an even lower neighbour; 1 + 3 * 2^-8 rounds up to even.
        using var w = tensor(new[] { 1 + 1f / 256, 1 + 3f / 256, -2.5f, 1e-3f }, 2, 2);
        using var expected = w.to(ScalarType.BFloat16).to(ScalarType.Float32);
        using var packed = PackedWeight.Create(w, WeightFormat.Bf16)!;
        Assert.Equal(new[] { 1f, 1 + 4f / 256 }, w.data<float>().ToArray()[..2]);
        Assert.Equal(expected.data<float>().ToArray(), w.data<float>().ToArray());
        Assert.Equal(4 * sizeof(ushort), packed.Bytes);
    }

    [Fact]
    public void Int8_packing_keeps_each_weight_within_half_a_step_of_its_row_scale()
    {
        using var w = randn(6, 40, generator: new Generator(3, CPU));
        w[2].zero_();
        using var original = w.clone();
        using var packed = PackedWeight.Create(w, WeightFormat.Int8)!;
        using var step = original.abs().amax([1], keepdim: true) / 127;
        using var error = (w - original).abs();
        Assert.True((error <= step / 2 + 1e-7).all().item<bool>(), "a weight moved more than half a quantization step");
        Assert.Equal(0f, w[2].abs().sum().item<float>());
        Assert.Equal(6 * 40 + 6 * sizeof(float), packed.Bytes);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public void Int8_sums_stay_exact_at_the_largest_values_over_whole_blocks(int rows)
    {
        // Every weight and every x at its format's largest magnitude: each int32 lane of a block of 4096 elements
        // comes within 1 % of 2^31, so one pair too many per lane would wrap it. Rows of opposite sign, two whole
        // blocks and a tail.
        const int n = 2 * 4096 + 37;
        using var scope = NewDisposeScope();
        var w = cat([ones(3, n), -ones(3, n)]);
        var x = ones(rows, n) * 0.5f;
        using var packed = PackedWeight.Create(w, WeightFormat.Int8)!;
        using var noGrad = no_grad();
        var y = packed.Forward(x);
        var expected = tensor(new[] { 0.5f * n, 0.5f * n, 0.5f * n, -0.5f * n, -0.5f * n, -0.5f * n }).expand(rows, 6);
        Assert.True(((y - expected).abs() <= 1e-5 * 0.5 * n).all().item<bool>(), $"int8 sums off: {string.Join(", ", y[0].data<float>().ToArray())}");
    }

    [Fact]
    public void The_kernel_declines_autograd_big_batches_and_other_dtypes()
    {
        using var w = randn(8, 16);
        using var packed = PackedWeight.Create(w, WeightFormat.Fp32)!;
        using (no_grad())
        {
            Assert.True(packed.Accepts(zeros(1, 1, 16)));
            Assert.False(packed.Accepts(zeros(PackedWeight.MaxKernelRows + 1, 16)));
            Assert.False(packed.Accepts(zeros(1, 16, ScalarType.Float64)));
        }
        Assert.False(packed.Accepts(zeros(1, 16)));
    }

    static void AssertAllPaths(WeightFormat format, int rows, int inFeatures, int outFeatures, bool hasBias)
    {
        var generator = new Generator((ulong)(rows * 7 + inFeatures), CPU);
        using var scope = NewDisposeScope();
        var weight = randn(outFeatures, inFeatures, generator: generator);
        var bias = hasBias ? randn(outFeatures, generator: generator) : null;
        // A view that is not contiguous, as a decode step's last position is.
        var x = randn(rows, 2, inFeatures, generator: generator)[.., 1, ..];
        using var packed = PackedWeight.Create(weight, format)!;
        using var noGrad = no_grad();
        // After packing, weight holds the values the format keeps: torch's product on it is the reference.
        var expected = nn.functional.linear(x, weight, bias);
        var bound = nn.functional.linear(x.abs(), weight.abs(), bias?.abs());
        var threadsBefore = get_num_threads();
        try
        {
            foreach (var portable in new[] { false, true })
            foreach (var threads in new[] { 1, 2 })
            {
                LinearKernel.ForcePortable = portable;
                set_num_threads(threads);
                var actual = packed.Forward(x, bias);
                Assert.Equal(expected.shape, actual.shape);
                // int8 in integers rounds each row of x to int16: at most max |x| / 65534 per element, allowed on top.
                var rounding = format == WeightFormat.Int8 && Int8Kernel.Supported
                    ? nn.functional.linear(x.abs().amax([-1], keepdim: true).expand_as(x) / 65534, weight.abs())
                    : zeros_like(expected);
                var excess = ((actual - expected).abs() - 1e-5 * bound - rounding).max().item<float>();
                Assert.True(excess <= 0, $"{format.Name()} [{rows}x{inFeatures}] x [{outFeatures}x{inFeatures}]^T, portable {portable}, {threads} threads: off by {excess} beyond 1e-5 relative");
            }
        }
        finally
        {
            LinearKernel.ForcePortable = false;
            set_num_threads(threadsBefore);
        }
    }
}

/// <summary>Tests that switch the kernel's code path run one at a time.</summary>
[CollectionDefinition(nameof(KernelPathCollection), DisableParallelization = true)]
public sealed class KernelPathCollection;
