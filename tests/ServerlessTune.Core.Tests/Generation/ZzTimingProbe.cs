using System.Diagnostics;
using Xunit.Abstractions;
using ServerlessTune.Core.Generation;
using ServerlessTune.Core.Modeling;
using ServerlessTune.Core.Tokenization;
using static TorchSharp.torch;
namespace ServerlessTune.Core.Tests.Generation;
public class ZzTimingProbe(ITestOutputHelper output)
{
    [Fact]
    public void Probe()
    {
        var dir = Directory.CreateTempSubdirectory("probe-").FullName;
        ModelInitializer.Run("llama", "small", dir, 0);
        using var model = Checkpoint.Load(dir);
        var tok = TokenizerLoader.Load(dir);
        output.WriteLine($"threads {get_num_threads()}");
        using (no_grad())
        {
            using var cache = model.NewCache();
            using var ids = tensor(Enumerable.Range(100, 32).Select(i => (long)i).ToArray(), 1, 32);
            model.forward(ids, null, cache).Dispose();
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < 32; i++)
            {
                using var one = tensor(new long[] { 500 + i }, 1, 1);
                using var mask = ones(1, 33 + i, ScalarType.Int64);
                model.forward(one, mask, cache).Dispose();
            }
            output.WriteLine($"forward only: {32 / sw.Elapsed.TotalSeconds:F1} tok/s");
            using var x = randn(1, 512); using var w = randn(50260, 512);
            sw.Restart();
            for (int i = 0; i < 32; i++) nn.functional.linear(x, w).Dispose();
            output.WriteLine($"lm_head linear only: {32 / sw.Elapsed.TotalSeconds:F1} /s");
        }
        var gen = new TextGenerator(model, tok, []);
        var prompt = Enumerable.Range(100, 32).ToArray();
        gen.Generate([prompt], new GenerationOptions { MaxNewTokens = 4 });
        var sw2 = Stopwatch.StartNew();
        gen.Generate([prompt], new GenerationOptions { MaxNewTokens = 33 });
        output.WriteLine($"generator: {33 / sw2.Elapsed.TotalSeconds:F1} tok/s (incl prefill)");
        Directory.Delete(dir, true);
    }
}
