using TorchSharp;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Modeling.Layers;

/// <summary>The activation names config.json uses (hidden_act / activation_function) mapped to torch functions.</summary>
public static class Activations
{
    public static Func<Tensor, Tensor> Get(string name, ModelConfig config) => name switch
    {
        "gelu_new" or "gelu_pytorch_tanh" or "gelu_fast" => x => nn.functional.gelu(x, TorchSharp.Modules.GELU.Approximate.tanh),
        "gelu" => x => nn.functional.gelu(x),
        _ when IsSilu(name) => x => nn.functional.silu(x),
        "relu" => x => nn.functional.relu(x),
        _ => throw new UserInputException($"{config.Source}: activation '{name}' is not supported (gelu_new, gelu_pytorch_tanh, gelu, silu, relu)"),
    };

    /// <summary>Whether <paramref name="name"/> is SiLU, which the .NET decode step computes itself.</summary>
    public static bool IsSilu(string name) => name is "silu" or "swish";
}
