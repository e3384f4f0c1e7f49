using TorchSharp;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Modeling.Layers;

/// <summary>
/// The two-projection MLP of GPT-2 (c_fc, c_proj, Conv1D) and GPT-J (fc_in, fc_out): the child names are
/// passed in because they are checkpoint key names.
/// </summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>
{
    readonly LinearLayer up, down;
    readonly Func<Tensor, Tensor> act;

    public Mlp(ModelConfig config, string upName, string downName, bool conv1d, ScalarType dtype) : base(nameof(Mlp))
    {
        up = new LinearLayer(config.HiddenSize, config.IntermediateSize, true, dtype, conv1d);
        down = new LinearLayer(config.IntermediateSize, config.HiddenSize, true, dtype, conv1d);
        act = Activations.Get(config.HiddenAct, config);
        register_module(upName, up);
        register_module(downName, down);
    }

    // Children are registered under checkpoint names above; the field names must not add a second copy.
    protected override void RegisterComponents() { }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return down.forward(act(up.forward(x))).MoveToOuterDisposeScope();
    }
}
