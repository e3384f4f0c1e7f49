using ServerlessTune.Core.Modeling;

namespace ServerlessTune.Core.Tests.Training;

/// <summary>
/// A ModelPresets tiny llama (random weights, byte-level tokenizer with ChatML markers) and the Lumo support
/// data, made once for the training test class.
/// </summary>
public sealed class TinyRunFixture : IDisposable
{
    readonly TempDir root = new();

    public TinyRunFixture()
    {
        CharTokenizerFolder.Write(ModelDirectory);
        var config = ModelPresets.Create("llama", "tiny", CharTokenizerFolder.VocabSize,
            eosTokenId: CharTokenizerFolder.ImEnd, padTokenId: CharTokenizerFolder.EndOfText);
        TorchSharp.torch.manual_seed(11);
        Checkpoint.Save(CausalLMFactory.Create(config, seed: 11), ModelDirectory);
        LumoSupportData.Write(DataDirectory);
    }

    public string ModelDirectory => Path.Combine(root.Path, "model");
    public string DataDirectory => Path.Combine(root.Path, "data");

    /// <summary>A fresh run folder under the fixture's root.</summary>
    public string NewRunDirectory() => Path.Combine(root.Path, "runs", Guid.NewGuid().ToString("N")[..8]);

    public void Dispose() => root.Dispose();
}
