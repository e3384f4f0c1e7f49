using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Modeling.Layers;

/// <summary>LayerNorm with weight and bias (GPT-2, GPT-J), created uninitialised like the other layers.</summary>
public sealed class LayerNorm : nn.Module<Tensor, Tensor>, IInitializable
{
    readonly Parameter weight;
    readonly Parameter bias;
    readonly double eps;

    public LayerNorm(long dim, double eps, ScalarType dtype) : base(nameof(LayerNorm))
    {
        this.eps = eps;
        weight = new Parameter(empty(dim, dtype));
        bias = new Parameter(empty(dim, dtype));
        register_parameter(nameof(weight), weight);
        register_parameter(nameof(bias), bias);
    }

    public void Initialize(double std, Generator generator)
    {
        using var noGrad = no_grad();
        weight.fill_(1);
        bias.zero_();
    }

    public override Tensor forward(Tensor x) => nn.functional.layer_norm(x, [weight.shape[0]], weight, bias, eps);
}
