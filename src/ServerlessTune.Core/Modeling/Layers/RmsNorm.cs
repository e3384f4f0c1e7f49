using TorchSharp;
using TorchSharp.Modules;
using ServerlessTune.Core.Modeling.Kernels;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Modeling.Layers;

/// <summary>
/// RMSNorm as Llama, Qwen2 and Phi-3 compute it: normalise in float32, cast back to the input dtype,
/// then scale, so half-precision weights give the same rounding as Transformers.
/// </summary>
public sealed class RmsNorm : nn.Module<Tensor, Tensor>, IInitializable
{
    readonly Parameter weight;
    readonly double eps;

    public RmsNorm(long dim, double eps, ScalarType dtype) : base(nameof(RmsNorm))
    {
        this.eps = eps;
        weight = new Parameter(empty(dim, dtype));
        register_parameter(nameof(weight), weight);
    }

    internal Tensor Weight => weight;
    internal double Eps => eps;

    public void Initialize(double std, Generator generator)
    {
        using var noGrad = no_grad();
        weight.fill_(1);
    }

    public override Tensor forward(Tensor x)
    {
        if (DecodeOps.Accepts(x, weight)) return DecodeOps.RmsNorm(x, weight, eps);
        using var scope = NewDisposeScope();
        var x32 = x.to(float32);
        var normed = x32 * rsqrt(x32.pow(2).mean([-1L], keepdim: true) + eps);
        return (weight * normed.to(x.dtype)).MoveToOuterDisposeScope();
    }
}
