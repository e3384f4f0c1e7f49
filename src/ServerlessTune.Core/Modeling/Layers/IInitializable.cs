using static TorchSharp.torch;

namespace ServerlessTune.Core.Modeling.Layers;

/// <summary>A layer that knows its Transformers _init_weights rule (normal(0, std) weights, zero biases, unit norms).</summary>
public interface IInitializable
{
    void Initialize(double std, Generator generator);
}
