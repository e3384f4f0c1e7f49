using System.Text.Json.Nodes;
using ServerlessTune.Core.Modeling;
using ServerlessTune.Core.Tokenization;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Tests.Generation;

/// <summary>
/// A small random GPT-2 with the real GPT-2 tokenizer. The embedding has 47 rows more than the
/// tokenizer (as checkpoints pad vocabularies) and a wide init makes the logits far apart, so greedy
/// choices do not hinge on rounding.
/// </summary>
public sealed class TinyGpt2 : IDisposable
{
    public const int Context = 64;
    public const int PaddedVocab = 50304;

    public TinyGpt2()
    {
        var config = ModelConfig.FromJson(new JsonObject
        {
            ["model_type"] = "gpt2", ["vocab_size"] = PaddedVocab, ["n_embd"] = 32, ["n_head"] = 4, ["n_layer"] = 2,
            ["n_positions"] = Context, ["initializer_range"] = 0.5, ["eos_token_id"] = 50256, ["bos_token_id"] = 50256,
        }, "tiny-gpt2");
        Model = new Gpt2(config, float32);
        Model.InitializeWeights(seed: 1234);
        Tokenizer = TokenizerLoader.Load("gpt2");
    }

    public Gpt2 Model { get; }
    public ITextTokenizer Tokenizer { get; }

    public void Dispose() => Model.Dispose();
}
