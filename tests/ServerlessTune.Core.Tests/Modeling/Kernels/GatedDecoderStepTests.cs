using ServerlessTune.Core.Modeling;
using ServerlessTune.Core.Modeling.Kernels;
using ServerlessTune.Core.Modeling.Layers;
using static TorchSharp.torch;
using static ServerlessTune.Core.Tests.Modeling.Kernels.DecodeOpsTests;

namespace ServerlessTune.Core.Tests.Modeling.Kernels;

/// <summary>
/// The .NET decode step of the gated rotary layers, and the whole-model decode pass built on it, compute what their
/// torch ops compute (which training, prefill and autograd run): over a slot cache whose rows have different lengths,
/// one of them a freed slot running as scratch, with grouped heads (llama), q/k/v biases (qwen2), a sliding window
/// shorter than the rows (mistral) and partial rotary with fused checkpoint projections (phi3).
/// </summary>
public sealed class GatedDecoderStepTests
{
    public static TheoryData<string> GatedArchitectures => new("llama", "qwen2", "mistral", "phi3");

    static readonly long[] Lengths = [4, 9, 7];
    const int Steps = 6;

    /// <summary>How a test decodes one step: the torch ops (autograd on), each layer's .NET step under the model's
    /// forward, or the whole pass of <see cref="CausalLM.NextTokenLogits"/>.</summary>
    public enum Path { Torch, Layers, Pass }

    [Theory]
    [MemberData(nameof(GatedArchitectures))]
    public void Decoding_rows_of_different_lengths_equals_the_layers_torch_ops(string arch)
    {
        using var model = ModelFixtures.TinyModel(arch);
        model.PrepareForDecoding();
        var steps = DecodeSteps(model).ToList();
        Assert.Equal(2 * model.Config.NumLayers, steps.Count);
        Assert.All(steps, Assert.NotNull);
        Assert.NotNull(model.DecodeModel());
        using var torchCache = new SlotKvCache(model.Config, model.DType, slots: 3, positions: 32);
        var reference = Decode(model, torchCache, Path.Torch);
        foreach (var path in new[] { Path.Layers, Path.Pass })
        {
            using var fastCache = new SlotKvCache(model.Config, model.DType, slots: 3, positions: 32);
            var fast = Decode(model, fastCache, path);
            for (int step = 0; step < Steps; step++)
                foreach (var row in new[] { 0, 2 })
                    AssertClose(reference[step][row], fast[step][row], 1e-5, $"{arch} {path} step {step} row {row}: ");
            for (int layer = 0; layer < model.Config.NumLayers; layer++)
                foreach (var slot in new[] { 0, 2 })
                {
                    var positions = fastCache.LengthOf(slot);
                    Assert.Equal(Lengths[slot] + Steps, positions);
                    AssertClose(torchCache.Layer(layer).Keys[slot].narrow(1, 0, positions), fastCache.Layer(layer).Keys[slot].narrow(1, 0, positions), 1e-5, $"{arch} {path} keys: ");
                    AssertClose(torchCache.Layer(layer).Values[slot].narrow(1, 0, positions), fastCache.Layer(layer).Values[slot].narrow(1, 0, positions), 1e-5, $"{arch} {path} values: ");
                }
        }
    }

    [Fact]
    public void The_whole_pass_runs_only_for_one_new_token_per_row_of_a_slot_cache_in_fp32_inference()
    {
        using var model = ModelFixtures.TinyModel("llama");
        model.PrepareForDecoding();
        using var cache = new SlotKvCache(model.Config, model.DType, slots: 2, positions: 16);
        using var one = zeros(2, 1, dtype: int64);
        using (no_grad())
        {
            Assert.True(DecodePass.Accepts(one, cache, model, out _));
            Assert.False(DecodePass.Accepts(one, new GrowingKvCache(), model, out _));
            Assert.False(DecodePass.Accepts(zeros(2, 3, dtype: int64), cache, model, out _));
            Assert.False(DecodePass.Accepts(zeros(PackedWeight.MaxKernelRows + 1, 1, dtype: int64), cache, model, out _));
            model.train();
            Assert.False(DecodePass.Accepts(one, cache, model, out _));
            model.eval();
        }
        Assert.False(DecodePass.Accepts(one, cache, model, out _));
        var (_, head) = model.Projections().First(p => p.Name.EndsWith("self_attn.q_proj"));
        head.AttachLora(rank: 2, alpha: 4, dropout: 0);
        Assert.Null(model.DecodeModel());
    }

    [Fact]
    public void An_attached_adapter_or_attention_dropout_in_training_keeps_the_torch_path()
    {
        using var model = ModelFixtures.TinyModel("llama");
        model.PrepareForDecoding();
        var (name, projection) = model.Projections().First(p => p.Name.EndsWith("self_attn.q_proj"));
        projection.AttachLora(rank: 2, alpha: 4, dropout: 0);
        Assert.Null(model.modules().OfType<LlamaAttention>().First().DecodeStep());
        Assert.NotNull(model.modules().OfType<LlamaAttention>().Last().DecodeStep());

        using var dropout = CausalLMFactory.Create(ModelConfig.FromJson(WithAttentionDropout(ModelFixtures.TinyJson("llama")), "tiny llama"), seed: 1);
        dropout.PrepareForDecoding();
        dropout.train();
        Assert.All(dropout.modules().OfType<LlamaAttention>(), a => Assert.Null(a.DecodeStep()));
        dropout.eval();
        Assert.All(dropout.modules().OfType<LlamaAttention>(), a => Assert.NotNull(a.DecodeStep()));
    }

    [Fact]
    public void Only_one_new_position_per_row_of_a_slot_cache_in_inference_takes_the_step()
    {
        var config = ModelFixtures.Tiny("llama");
        var rotary = new RotaryEmbedding(config.RotaryDim, config.RopeTheta, config.RopeScaling, interleaved: false);
        using var cache = new SlotKvCache(config, ScalarType.Float32, slots: 2, positions: 16);
        cache.Acquire();
        cache.Acquire();
        cache.Select(0, 2);
        var x = randn(2, 1, config.HiddenSize);

        using (no_grad())
        {
            var decode = rotary.WithTables(cache.Begin(2, 1, null, null), ScalarType.Float32);
            Assert.True(GatedDecoderStep.Accepts(x, decode, cache, out _, out var rows));
            Assert.Equal([0L, 0L], rows.Pasts);
            Assert.False(GatedDecoderStep.Accepts(x, decode, new GrowingKvCache(), out _, out _));
            Assert.False(GatedDecoderStep.Accepts(x.to(ScalarType.BFloat16), decode, cache, out _, out _));
            Assert.False(GatedDecoderStep.Accepts(x, decode with { Rotary = null }, cache, out _, out _));
            var prompt = rotary.WithTables(cache.Begin(2, 3, null, null), ScalarType.Float32);
            Assert.False(GatedDecoderStep.Accepts(randn(2, 3, config.HiddenSize), prompt, cache, out _, out _));
        }
        var again = rotary.WithTables(cache.Begin(2, 1, null, null), ScalarType.Float32);
        Assert.False(GatedDecoderStep.Accepts(x, again, cache, out _, out _));
    }

    /// <summary>Each slot's prompt alone, the middle slot freed, then <see cref="Steps"/> steps of every row together.</summary>
    static List<Tensor> Decode(CausalLM model, SlotKvCache cache, Path path)
    {
        using var mode = set_grad_enabled(path == Path.Torch);
        for (int i = 0; i < Lengths.Length; i++)
        {
            Assert.Equal(i, cache.Acquire());
            cache.Select(i, 1);
            using var prompt = Ids(1, Lengths[i], seed: 300 + i);
            model.NextTokenLogits(prompt, cache: cache).Dispose();
        }
        cache.Release(1);
        using var next = Ids(3, Steps, seed: 17);
        var logits = new List<Tensor>();
        for (int step = 0; step < Steps; step++)
        {
            cache.Select(0, cache.End);
            var ids = next.narrow(1, step, 1);
            logits.Add(path == Path.Layers ? model.forward(ids, null, cache)[.., -1].detach() : model.NextTokenLogits(ids, cache: cache).detach());
        }
        return logits;
    }

    static Tensor Ids(long batch, long length, long seed)
    {
        using var generator = new Generator((ulong)seed, CPU);
        return randint(0, 97, [batch, length], dtype: int64, generator: generator);
    }

    static IEnumerable<object?> DecodeSteps(CausalLM model) => model.modules().SelectMany(m => m switch
    {
        LlamaAttention a => [a.DecodeStep()],
        LlamaMlp mlp => [mlp.DecodeStep()],
        Phi3Attention a => [a.DecodeStep()],
        Phi3Mlp mlp => new object?[] { mlp.DecodeStep() },
        _ => [],
    });

    static System.Text.Json.Nodes.JsonObject WithAttentionDropout(System.Text.Json.Nodes.JsonObject json)
    {
        json["attention_dropout"] = 0.1;
        return json;
    }
}
