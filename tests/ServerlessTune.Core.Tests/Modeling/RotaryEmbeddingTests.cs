using ServerlessTune.Core.Modeling;
using ServerlessTune.Core.Modeling.Layers;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Tests.Modeling;

public class RotaryEmbeddingTests
{
    static readonly RopeScaling Llama3 = new("llama3", Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositions: 8192);

    [Fact]
    public void Default_frequencies_are_inverse_powers_of_theta()
    {
        var inv = RotaryEmbedding.InverseFrequencies(4, 10000, null);
        AssertClose([1, 0.01], inv);
    }

    [Fact]
    public void Llama3_keeps_high_frequencies_and_divides_low_ones_by_factor()
    {
        // theta 500000, dim 6: 1, 500000^-1/3, 500000^-2/3 with wavelengths 6.3, 499 and 39582.
        // Low-frequency threshold 8192/1 = 8192 (divide by 8); high-frequency threshold 8192/4 = 2048 (keep).
        var inv = RotaryEmbedding.InverseFrequencies(6, 500000, Llama3);
        AssertClose([1, Math.Pow(500000, -1.0 / 3), Math.Pow(500000, -2.0 / 3) / 8], inv);
    }

    [Fact]
    public void Llama3_interpolates_the_middle_band()
    {
        // dim 4: f = 500000^-1/2 = 0.00141421, wavelength 4442.9 lies between 2048 and 8192.
        // smooth = (8192 / 4442.88 - 1) / (4 - 1) = 0.281283; f' = (1 - smooth) f / 8 + smooth f = 0.000524846
        var inv = RotaryEmbedding.InverseFrequencies(4, 500000, Llama3);
        double f = Math.Pow(500000, -0.5), smooth = (8192 / (2 * Math.PI / f) - 1) / (4 - 1);
        Assert.Equal(0.000524846, (1 - smooth) * f / 8 + smooth * f, 1e-9);
        AssertClose([1, (1 - smooth) * f / 8 + smooth * f], inv);
    }

    [Fact]
    public void Linear_scaling_divides_every_frequency()
    {
        var inv = RotaryEmbedding.InverseFrequencies(4, 10000, new RopeScaling("linear", 4, 0, 0, 0));
        AssertClose([0.25, 0.0025], inv);
    }

    [Fact]
    public void Llama_3_2_config_yields_llama3_scaling()
    {
        var config = ModelConfig.Load(ModelFixtures.PublicConfig("llama-3.2-1b"));
        Assert.Equal(new RopeScaling("llama3", 32, 1, 4, 8192), config.RopeScaling);
        Assert.Equal(500000, config.RopeTheta);
        Assert.Equal(64, config.RotaryDim);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Rotation_pairs_halves_or_neighbours(bool interleaved)
    {
        // one head of 4 dims at position 1, theta 10000: angles 1 and 0.01
        var rope = new RotaryEmbedding(4, 10000, null, interleaved);
        var (cos, sin) = rope.Compute(tensor(new long[] { 1 }).reshape(1, 1), float32);
        using var x = tensor(new float[] { 1, 2, 3, 4 }).reshape(1, 1, 1, 4);
        var y = rope.Apply(x, cos, sin).data<float>().ToArray();
        double c1 = Math.Cos(1), s1 = Math.Sin(1), c2 = Math.Cos(0.01), s2 = Math.Sin(0.01);
        double[] expected = interleaved
            ? [1 * c1 - 2 * s1, 2 * c1 + 1 * s1, 3 * c2 - 4 * s2, 4 * c2 + 3 * s2]
            : [1 * c1 - 3 * s1, 2 * c2 - 4 * s2, 3 * c1 + 1 * s1, 4 * c2 + 2 * s2];
        for (var i = 0; i < 4; i++)
            Assert.Equal(expected[i], y[i], 1e-5);
    }

    /// <summary>float32 results against the double-precision formula: a few ulps apart on any CPU's pow.</summary>
    static void AssertClose(double[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-6 * Math.Abs(expected[i]), $"[{i}]: {actual[i]} vs {expected[i]}");
    }
}
