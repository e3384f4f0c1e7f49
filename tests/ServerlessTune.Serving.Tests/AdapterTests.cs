using System.Text.Json.Nodes;
using ServerlessTune.Core.Modeling;
using ServerlessTune.Core.Modeling.Peft;
using ServerlessTune.Core.Tests;
using static TorchSharp.torch;

namespace ServerlessTune.Serving.Tests;

/// <summary>The server merges a LoRA adapter into the base weights at load: its log-probabilities equal the unmerged base + adapter.</summary>
public sealed class AdapterTests
{
    [Fact]
    public async Task Served_logprobs_with_a_merged_adapter_equal_base_plus_adapter_within_1e_4()
    {
        using var folders = new TempDir();
        var baseFolder = folders.File("base");
        ModelInitializer.Run("llama", "tiny", baseFolder, seed: 5);
        var adapterFolder = folders.File("adapter");
        using var unmerged = Checkpoint.Load(baseFolder);
        LoraInjector.Attach(unmerged, ["q_proj", "v_proj", "down_proj"], rank: 4, alpha: 8, dropout: 0);
        using (no_grad())
        using (var generator = new Generator(9))
            foreach (var (_, p) in LoraInjector.AdapterParameters(unmerged)) p.normal_(0, 0.2, generator); // B is zero at init: make it matter
        PeftAdapter.Save(unmerged, new PeftAdapterConfig
        {
            R = 4, LoraAlpha = 8, LoraDropout = 0, TargetModules = ["q_proj", "v_proj", "down_proj"], BaseModelNameOrPath = baseFolder,
        }, adapterFolder);

        int[] ids = [17, 220, 3001, 95, 42, 1200, 7, 64, 19, 500];
        unmerged.eval();
        float[] expected;
        using (no_grad())
        using (var logits = unmerged.forward(tensor(ids.Select(i => (long)i).ToArray(), 1, ids.Length)))
        using (var logprobs = logits[0].log_softmax(-1))
            expected = Enumerable.Range(1, ids.Length - 1).Select(t => logprobs[t - 1, ids[t]].item<float>()).ToArray();

        await using var server = await TestServer.ForFolderAsync(baseFolder, s => s with { Adapter = adapterFolder });
        var scored = await server.OkAsync("/v1/completions", new { model = "base", prompt = ids, max_tokens = 0, echo = true, logprobs = 0 });
        var served = scored["choices"]![0]!["logprobs"]!["token_logprobs"]!.AsArray().Skip(1).Select(n => (float)n!).ToArray();

        using var plainBase = Checkpoint.Load(baseFolder);
        using (no_grad())
        using (var baseLogits = plainBase.forward(tensor(ids.Select(i => (long)i).ToArray(), 1, ids.Length)))
        using (var baseLogprobs = baseLogits[0].log_softmax(-1))
            Assert.True(Math.Abs(baseLogprobs[0, ids[1]].item<float>() - expected[0]) > 1e-3, "the adapter changes the model");
        Assert.Equal(expected.Length, served.Length);
        for (int t = 0; t < expected.Length; t++)
            Assert.True(Math.Abs(expected[t] - served[t]) < 1e-4, $"position {t + 1}: served {served[t]} vs base + adapter {expected[t]}");
    }
}
