using TorchSharp;
using ServerlessTune.Core.Modeling.Kernels;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Modeling.Layers;

/// <summary>
/// Rotary position embedding on the first <c>rotaryDim</c> dims of each head. Llama/Qwen2/Phi-3 rotate
/// the two halves of that block (rotate_half); GPT-J rotates interleaved pairs (rotate_every_two).
/// Frequencies are computed in float32 with torch ops, as Transformers does, so rounding matches.
/// Not a module: the frequencies are derived from the config and are never saved.
/// </summary>
public sealed class RotaryEmbedding(int rotaryDim, double theta, RopeScaling? scaling, bool interleaved)
{
    /// <summary>How many leading dims of a head rotate.</summary>
    public int RotaryDim => rotaryDim;

    /// <summary>GPT-J's rotate_every_two pairs (x0, x1), (x2, x3)...; otherwise rotate_half's (x_i, x_i+half).</summary>
    public bool Interleaved => interleaved;

    readonly float[] inverseFrequencies = InverseFrequencies(rotaryDim, theta, scaling);

    /// <summary>1 / theta^(2i/dim), then the rope_scaling rule ("linear" or Llama 3's smooth band).</summary>
    public static float[] InverseFrequencies(int dim, double theta, RopeScaling? scaling)
    {
        using var scope = NewDisposeScope();
        var invFreq = 1.0 / pow(theta, arange(0, dim, 2, int64).to(float32) / dim);
        if (scaling is { Type: "linear" })
            invFreq = invFreq / scaling.Factor;
        else if (scaling is { Type: "llama3" })
            invFreq = Llama3Scale(invFreq, scaling);
        return invFreq.to(float32).data<float>().ToArray();
    }

    // Llama 3: long wavelengths (beyond the original context / low_freq_factor) are divided by factor,
    // short ones (below original / high_freq_factor) kept, and the band between interpolated smoothly.
    static Tensor Llama3Scale(Tensor invFreq, RopeScaling s)
    {
        var lowFreqWavelen = s.OriginalMaxPositions / s.LowFreqFactor;
        var highFreqWavelen = s.OriginalMaxPositions / s.HighFreqFactor;
        var wavelen = 2 * Math.PI / invFreq;
        var scaled = where(wavelen > lowFreqWavelen, invFreq / s.Factor, invFreq);
        var smooth = (s.OriginalMaxPositions / wavelen - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor);
        var smoothed = (1 - smooth) * scaled / s.Factor + smooth * scaled;
        var isMedium = (wavelen >= highFreqWavelen).logical_and(wavelen <= lowFreqWavelen);
        return where(isMedium, smoothed, scaled);
    }

    /// <summary>cos and sin for the given positions, [B, 1, T, rotaryDim], in <paramref name="dtype"/>.</summary>
    public (Tensor Cos, Tensor Sin) Compute(Tensor positionIds, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var freqs = positionIds.to(float32).unsqueeze(-1) * tensor(inverseFrequencies);
        var emb = interleaved ? freqs.repeat_interleave(2, dim: -1) : cat([freqs, freqs], -1);
        emb = emb.unsqueeze(1);
        return (emb.cos().to(dtype).MoveToOuterDisposeScope(), emb.sin().to(dtype).MoveToOuterDisposeScope());
    }

    PositionTable? table;
    readonly object tableGate = new();

    /// <summary>
    /// cos and sin of positions 0, 1, ... (at least <paramref name="positions"/> of them), [positions, rotaryDim] in
    /// float32, computed by <see cref="Compute"/> and kept, so a decode step reads its rows' positions instead of
    /// computing tables each pass (a dozen torch ops). Grown by doubling; a table once returned is never changed.
    /// </summary>
    internal PositionTable Table(long positions)
    {
        if (table is { } current && current.Positions >= positions) return current;
        lock (tableGate)
        {
            if (table is { } grown && grown.Positions >= positions) return grown;
            long size = Math.Max(positions, Math.Max(256, 2 * (table?.Positions ?? 0)));
            using var scope = NewDisposeScope();
            var (cos, sin) = Compute(arange(size, dtype: int64).unsqueeze(0), float32);
            return table = new PositionTable(cos.reshape(size, rotaryDim).DetachFromDisposeScope(), sin.reshape(size, rotaryDim).DetachFromDisposeScope());
        }
    }

    /// <summary>cos and sin [positions, rotaryDim] float32, one row per position.</summary>
    internal sealed record PositionTable(Tensor Cos, Tensor Sin)
    {
        public long Positions => Cos.size(0);
    }

    /// <summary>The context with this pass's cos/sin tables, computed once for every layer.</summary>
    public AttentionContext WithTables(AttentionContext context, ScalarType dtype)
    {
        var (cos, sin) = Compute(context.PositionIds, dtype);
        return context with { Rotary = this, Cos = cos, Sin = sin };
    }

    /// <summary>Rotates q or k [B, H, T, D] by the tables the model body put in the context with <see cref="WithTables"/>.</summary>
    public static Tensor Apply(Tensor x, AttentionContext context) =>
        context is { Rotary: { } rotary, Cos: { } cos, Sin: { } sin }
            ? rotary.Apply(x, cos, sin)
            : throw new InvalidOperationException("rotary tables missing from the attention context");

    /// <summary>Rotates x [B, H, T, D] by the given cos/sin; dims past rotaryDim pass through.</summary>
    public Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        if (DecodeOps.Accepts(x, cos, sin) && cos.size(0) == x.size(0) && cos.size(2) == x.size(2))
            return DecodeOps.Rotary(x, cos, sin, rotaryDim, interleaved);
        using var scope = NewDisposeScope();
        var headDim = x.size(-1);
        var rot = rotaryDim == headDim ? x : x.narrow(-1, 0, rotaryDim);
        var rotated = rot * cos + Rotate(rot) * sin;
        if (rotaryDim != headDim)
            rotated = cat([rotated, x.narrow(-1, rotaryDim, headDim - rotaryDim)], -1);
        return rotated.MoveToOuterDisposeScope();
    }

    Tensor Rotate(Tensor x)
    {
        if (interleaved)
        {
            var even = x.slice(-1, 0, rotaryDim, 2);
            var odd = x.slice(-1, 1, rotaryDim, 2);
            return stack([-odd, even], -1).flatten(-2);
        }
        var half = rotaryDim / 2;
        return cat([-x.narrow(-1, half, half), x.narrow(-1, 0, half)], -1);
    }
}
