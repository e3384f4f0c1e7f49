using System.Text;
using System.Text.Json.Nodes;
using ServerlessTune.Core.Modeling;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Tests.Modeling;

public class CheckpointTests
{
    internal static JsonObject ReadHeader(string file)
    {
        using var stream = File.OpenRead(file);
        var lengthBytes = new byte[8];
        stream.ReadExactly(lengthBytes);
        var json = new byte[BitConverter.ToUInt64(lengthBytes)];
        stream.ReadExactly(json);
        return JsonNode.Parse(Encoding.UTF8.GetString(json))!.AsObject();
    }

    static void AssertSameWeights(CausalLM expected, CausalLM actual)
    {
        var a = expected.state_dict();
        var b = actual.state_dict();
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (var (name, tensor) in a)
        {
            Assert.Equal(tensor.dtype, b[name].dtype);
            Assert.True(ModelFixtures.BitEqual(tensor, b[name]), $"{name} differs");
        }
    }

    [Theory]
    [MemberData(nameof(ModelFixtures.TinyArchitectures), MemberType = typeof(ModelFixtures))]
    public void Save_then_load_is_bit_exact(string arch)
    {
        using var dir = new ModelTempDir();
        using var model = ModelFixtures.TinyModel(arch, seed: 3);
        Checkpoint.Save(model, dir.Path);
        using var loaded = Checkpoint.Load(dir.Path);
        Assert.Equal(model.GetType(), loaded.GetType());
        AssertSameWeights(model, loaded);
        Assert.True(File.Exists(Path.Combine(dir.Path, "generation_config.json")));
        Assert.Equal("pt", ReadHeader(Path.Combine(dir.Path, "model.safetensors"))["__metadata__"]!["format"]!.GetValue<string>());
    }

    [Fact]
    public void Gpt2_file_has_transformers_names_conv1d_layout_and_no_tied_head()
    {
        using var dir = new ModelTempDir();
        using var model = ModelFixtures.TinyModel("gpt2");
        Checkpoint.Save(model, dir.Path);
        var header = ReadHeader(Path.Combine(dir.Path, "model.safetensors"));
        var expected = new Dictionary<string, long[]>
        {
            ["transformer.wte.weight"] = [97, 32], ["transformer.wpe.weight"] = [64, 32],
            ["transformer.ln_f.weight"] = [32], ["transformer.ln_f.bias"] = [32],
        };
        for (var i = 0; i < 2; i++)
        {
            var p = $"transformer.h.{i}.";
            expected[p + "ln_1.weight"] = [32]; expected[p + "ln_1.bias"] = [32];
            expected[p + "attn.c_attn.weight"] = [32, 96]; expected[p + "attn.c_attn.bias"] = [96];
            expected[p + "attn.c_proj.weight"] = [32, 32]; expected[p + "attn.c_proj.bias"] = [32];
            expected[p + "ln_2.weight"] = [32]; expected[p + "ln_2.bias"] = [32];
            expected[p + "mlp.c_fc.weight"] = [32, 128]; expected[p + "mlp.c_fc.bias"] = [128];
            expected[p + "mlp.c_proj.weight"] = [128, 32]; expected[p + "mlp.c_proj.bias"] = [32];
        }
        AssertHeader(header, expected);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir.Path, "config.json")))!;
        Assert.Equal("GPT2LMHeadModel", config["architectures"]![0]!.GetValue<string>());
        Assert.Equal("float32", config["torch_dtype"]!.GetValue<string>());
    }

    [Fact]
    public void Llama_phi3_and_gptj_files_have_transformers_names_and_shapes()
    {
        var llama = new Dictionary<string, long[]> { ["model.embed_tokens.weight"] = [97, 32], ["model.norm.weight"] = [32] };
        var phi3 = new Dictionary<string, long[]> { ["model.embed_tokens.weight"] = [97, 32], ["model.norm.weight"] = [32], ["lm_head.weight"] = [97, 32] };
        var gptj = new Dictionary<string, long[]>
        {
            ["transformer.wte.weight"] = [97, 32], ["transformer.ln_f.weight"] = [32], ["transformer.ln_f.bias"] = [32],
            ["lm_head.weight"] = [97, 32], ["lm_head.bias"] = [97],
        };
        for (var i = 0; i < 2; i++)
        {
            var p = $"model.layers.{i}.";
            foreach (var dict in new[] { llama, phi3 })
            {
                dict[p + "input_layernorm.weight"] = [32];
                dict[p + "post_attention_layernorm.weight"] = [32];
                dict[p + "self_attn.o_proj.weight"] = [32, 32];
                dict[p + "mlp.down_proj.weight"] = [32, 64];
            }
            llama[p + "self_attn.q_proj.weight"] = [32, 32];
            llama[p + "self_attn.k_proj.weight"] = [16, 32];
            llama[p + "self_attn.v_proj.weight"] = [16, 32];
            llama[p + "mlp.gate_proj.weight"] = [64, 32];
            llama[p + "mlp.up_proj.weight"] = [64, 32];
            phi3[p + "self_attn.qkv_proj.weight"] = [64, 32];
            phi3[p + "mlp.gate_up_proj.weight"] = [128, 32];
            var h = $"transformer.h.{i}.";
            gptj[h + "ln_1.weight"] = [32]; gptj[h + "ln_1.bias"] = [32];
            foreach (var proj in new[] { "q_proj", "k_proj", "v_proj", "out_proj" })
                gptj[h + $"attn.{proj}.weight"] = [32, 32];
            gptj[h + "mlp.fc_in.weight"] = [128, 32]; gptj[h + "mlp.fc_in.bias"] = [128];
            gptj[h + "mlp.fc_out.weight"] = [32, 128]; gptj[h + "mlp.fc_out.bias"] = [32];
        }
        foreach (var (arch, expected) in new[] { ("llama", llama), ("phi3", phi3), ("gptj", gptj) })
        {
            using var dir = new ModelTempDir();
            using var model = ModelFixtures.TinyModel(arch);
            Checkpoint.Save(model, dir.Path);
            AssertHeader(ReadHeader(Path.Combine(dir.Path, "model.safetensors")), expected);
        }
    }

    [Fact]
    public void Qwen2_has_qkv_biases_but_no_output_bias()
    {
        using var model = ModelFixtures.TinyModel("qwen2");
        var names = model.state_dict().Keys.ToHashSet();
        Assert.Contains("model.layers.0.self_attn.q_proj.bias", names);
        Assert.Contains("model.layers.0.self_attn.k_proj.bias", names);
        Assert.Contains("model.layers.0.self_attn.v_proj.bias", names);
        Assert.DoesNotContain("model.layers.0.self_attn.o_proj.bias", names);
        Assert.Contains("lm_head.weight", names);
    }

    static void AssertHeader(JsonObject header, Dictionary<string, long[]> expected)
    {
        var names = header.Select(kv => kv.Key).Where(k => k != "__metadata__").Order().ToList();
        Assert.Equal(expected.Keys.Order(), names);
        foreach (var (name, shape) in expected)
        {
            Assert.Equal("F32", header[name]!["dtype"]!.GetValue<string>());
            Assert.Equal(shape, header[name]!["shape"]!.AsArray().Select(d => d!.GetValue<long>()));
        }
    }

    [Theory]
    [InlineData(ScalarType.Float16)]
    [InlineData(ScalarType.BFloat16)]
    public void Half_precision_files_load_as_the_rounded_fp32_values(ScalarType stored)
    {
        using var dir = new ModelTempDir();
        using var source = ModelFixtures.TinyModel("llama", seed: 5);
        using (var half = CausalLMFactory.Create(source.Config, stored))
        {
            CopyWeights(source, half);
            Checkpoint.Save(half, dir.Path);
        }
        Assert.Equal(stored == ScalarType.Float16 ? "F16" : "BF16",
            ReadHeader(Path.Combine(dir.Path, "model.safetensors"))["model.norm.weight"]!["dtype"]!.GetValue<string>());

        using var loaded = Checkpoint.Load(dir.Path, ScalarType.Float32);
        var roundedSomewhere = false;
        foreach (var (name, original) in source.state_dict())
        {
            var value = loaded.state_dict()[name];
            Assert.Equal(ScalarType.Float32, value.dtype);
            using var rounded = original.to(stored).to(ScalarType.Float32);
            Assert.True(ModelFixtures.BitEqual(value, rounded), $"{name} is not the {stored} rounding of the source");
            roundedSomewhere |= !ModelFixtures.BitEqual(value, original);
        }
        Assert.True(roundedSomewhere);

        using var kept = Checkpoint.Load(dir.Path, stored);
        Assert.Equal(stored, kept.state_dict()["model.norm.weight"].dtype);
    }

    static void CopyWeights(CausalLM from, CausalLM to)
    {
        using var noGrad = no_grad();
        var source = from.state_dict();
        foreach (var (name, tensor) in to.state_dict())
            tensor.copy_(source[name]);
    }

    [Fact]
    public void Sharded_checkpoint_writes_an_index_and_loads()
    {
        using var dir = new ModelTempDir();
        using var model = ModelFixtures.TinyModel("qwen2", seed: 11);
        var sizes = model.state_dict().Values.Select(t => t.numel() * 4).ToList();
        Checkpoint.Save(model, dir.Path, maxShardBytes: sizes.Sum() / 2 + sizes.Max());

        Assert.False(File.Exists(Path.Combine(dir.Path, "model.safetensors")));
        var shards = Directory.GetFiles(dir.Path, "model-*-of-*.safetensors").Select(Path.GetFileName).Order().ToList();
        Assert.Equal(["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"], shards);
        var index = JsonNode.Parse(File.ReadAllText(Path.Combine(dir.Path, "model.safetensors.index.json")))!;
        Assert.Equal(sizes.Sum(), index["metadata"]!["total_size"]!.GetValue<long>());
        var weightMap = index["weight_map"]!.AsObject();
        Assert.Equal(model.state_dict().Count, weightMap.Count);
        foreach (var shard in shards)
        {
            var stored = ReadHeader(Path.Combine(dir.Path, shard!)).Select(kv => kv.Key).Where(k => k != "__metadata__").Order();
            Assert.Equal(weightMap.Where(kv => kv.Value!.GetValue<string>() == shard).Select(kv => kv.Key).Order(), stored);
        }

        using var loaded = Checkpoint.Load(dir.Path);
        AssertSameWeights(model, loaded);

        // Saving again unsharded replaces the shards instead of leaving them to shadow the new file.
        Checkpoint.Save(model, dir.Path);
        Assert.Empty(Directory.GetFiles(dir.Path, "model-*-of-*.safetensors"));
        Assert.False(File.Exists(Path.Combine(dir.Path, "model.safetensors.index.json")));
    }

    [Fact]
    public void Gpt2_checkpoint_saved_from_the_bare_model_with_old_buffers_loads()
    {
        // The hub's gpt2 file has no "transformer." prefix and still carries attn.bias buffers.
        using var dir = new ModelTempDir();
        using var model = ModelFixtures.TinyModel("gpt2", seed: 2);
        Checkpoint.Save(model, dir.Path);
        var tensors = model.state_dict().Select(kv => (kv.Key["transformer.".Length..], kv.Value)).ToList();
        tensors.Add(("h.0.attn.bias", ones(1, 1, 64, 64)));
        SafetensorsWriter.Write(Path.Combine(dir.Path, "model.safetensors"), tensors);
        using var loaded = Checkpoint.Load(dir.Path);
        AssertSameWeights(model, loaded);
    }
}
