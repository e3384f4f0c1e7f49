using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Modeling.Layers;

/// <summary>A lookup table with one parameter named weight [rows, dim], created uninitialised (the loader or the initialiser fills it).</summary>
public sealed class EmbeddingLayer : nn.Module<Tensor, Tensor>, IInitializable
{
    readonly Parameter weight;

    public EmbeddingLayer(long rows, long dim, ScalarType dtype) : base(nameof(EmbeddingLayer))
    {
        weight = new Parameter(empty(rows, dim, dtype));
        register_parameter(nameof(weight), weight);
    }

    public Parameter Weight => weight;

    public void Initialize(double std, Generator generator)
    {
        using var noGrad = no_grad();
        weight.normal_(0, std, generator);
    }

    public override Tensor forward(Tensor ids)
    {
        using var flat = weight.index_select(0, ids.reshape(-1));
        return flat.reshape([.. ids.shape, weight.shape[1]]);
    }
}
