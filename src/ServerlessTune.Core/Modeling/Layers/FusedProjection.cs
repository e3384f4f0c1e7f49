using ServerlessTune.Core.Modeling.Kernels;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Modeling.Layers;

/// <summary>A module whose projections of one input can run as one product (see <see cref="FusedProjection"/>).</summary>
public interface IFusesProjections
{
    /// <summary>Fuses (once) and packs the fused products in <paramref name="format"/> for the decode kernel.</summary>
    void FuseProjections(WeightFormat format);

    /// <summary>The fused products made so far.</summary>
    IEnumerable<FusedProjection> FusedProducts();
}

/// <summary>
/// Projections of the same input (q/k/v, gate/up) as one matmul: at batch 1 a decode step is a chain of
/// matrix-vector products, each a kernel launch and a thread fork/join, so one [sum of outs, in] product
/// replaces two or three. Made after the checkpoint is loaded: the parts' weights and biases are moved into
/// one buffer and become views of it, so the modules keep their checkpoint names, state_dict is unchanged,
/// and anything that updates a part in place (loading, a LoRA merge, an optimizer) updates the fused product.
/// </summary>
public sealed class FusedProjection : IDisposable
{
    readonly LinearLayer[] parts;
    readonly Tensor weight;
    readonly Tensor? bias;
    readonly long[] sizes;
    PackedWeight? packed;

    FusedProjection(LinearLayer[] parts, Tensor weight, Tensor? bias)
    {
        this.parts = parts;
        this.weight = weight;
        this.bias = bias;
        sizes = parts.Select(p => p.OutFeatures).ToArray();
    }

    /// <summary>The fused product of <paramref name="parts"/>, or null when they cannot share one (GPT-2's
    /// Conv1D layout, different inputs, biases on some only, a LoRA adapter attached).</summary>
    public static FusedProjection? Create(params LinearLayer[] parts)
    {
        if (parts.Any(p => p.IsConv1D || p.HasLora || p.InFeatures != parts[0].InFeatures || (p.Bias is null) != (parts[0].Bias is null)))
            return null;
        // Not an inference-mode tensor: the parameters live in it, and training must still update them in place.
        using var normalMode = inference_mode(false);
        using var noGrad = no_grad();
        var weight = cat(parts.Select(p => (Tensor)p.Weight).ToArray(), 0).DetachFromDisposeScope();
        var bias = parts[0].Bias is null ? null : cat(parts.Select(p => (Tensor)p.Bias!).ToArray(), 0).DetachFromDisposeScope();
        long offset = 0;
        foreach (var p in parts)
        {
            p.Weight.set_(weight.narrow(0, offset, p.OutFeatures));
            p.Bias?.set_(bias!.narrow(0, offset, p.OutFeatures));
            offset += p.OutFeatures;
            p.InFusedProduct = true;
        }
        return new FusedProjection(parts, weight, bias);
    }

    /// <summary>The fused weight in <paramref name="format"/>, rounded in place (so the parts, its views, are too).</summary>
    public void Pack(WeightFormat format)
    {
        packed?.Dispose();
        packed = PackedWeight.Create(weight, format);
    }

    public PackedWeight? Packed => packed;

    /// <summary>The packed product and its bias, for a decode step that calls the kernel itself; null while a part has an adapter.</summary>
    internal (PackedWeight Weight, Tensor? Bias)? DecodeProduct => packed is not null && !parts.Any(p => p.HasLora) ? (packed, bias) : null;

    /// <summary>Each part's output, as <see cref="LinearLayer.forward"/> of that part would give it.</summary>
    public Tensor[] Forward(Tensor x)
    {
        // Gradients reach the parts only through their own products; a LoRA adapter attached later runs there too.
        if (is_grad_enabled() || parts.Any(p => p.HasLora))
            return parts.Select(p => p.forward(x)).ToArray();
        using var y = packed is not null && packed.Accepts(x) ? packed.Forward(x, bias) : nn.functional.linear(x, weight, bias);
        return y.split(sizes, -1);
    }

    public void Dispose()
    {
        packed?.Dispose();
        weight.Dispose();
        bias?.Dispose();
    }
}
