using ServerlessTune.Benchmarks;
using ServerlessTune.Core.Modeling;

namespace ServerlessTune.Benchmarks.Tests;

public class DecodeBenchmarkTests
{
    static long Parameters(CausalLM model) => model.parameters().Sum(p => p.numel());

    [Fact]
    public void A_tied_token_table_is_read_whole_and_a_position_table_one_row_per_token()
    {
        using var gpt2 = CausalLMFactory.Create(ModelPresets.Create("gpt2", "tiny", vocabSize: 1000));
        Assert.True(gpt2.Config.TieWordEmbeddings);
        var positionRowsSkipped = (gpt2.Config.MaxPositions - 1) * gpt2.Config.HiddenSize;
        Assert.Equal(4 * (Parameters(gpt2) - positionRowsSkipped), DecodeBenchmark.WeightBytesReadPerToken(gpt2));
    }

    [Fact]
    public void An_untied_token_table_is_read_one_row_per_token()
    {
        using var gptj = CausalLMFactory.Create(ModelPresets.Create("gptj", "tiny", vocabSize: 1000));
        Assert.False(gptj.Config.TieWordEmbeddings);
        var tokenRowsSkipped = 999 * gptj.Config.HiddenSize;
        Assert.Equal(4 * (Parameters(gptj) - tokenRowsSkipped), DecodeBenchmark.WeightBytesReadPerToken(gptj));
    }

    [Fact]
    public void Int8_products_read_a_byte_per_weight_and_a_scale_per_output_row()
    {
        using var llama = CausalLMFactory.Create(ModelPresets.Create("llama", "tiny", vocabSize: 1000));
        var fp32 = DecodeBenchmark.WeightBytesReadPerToken(llama);
        llama.ConvertWeights(WeightFormat.Int8);
        var products = llama.PackedWeights().ToList();
        var weights = products.Sum(p => (long)p.InFeatures * p.OutFeatures);
        var rows = products.Sum(p => (long)p.OutFeatures);
        Assert.Equal(fp32 - 4 * weights + weights + 4 * rows, DecodeBenchmark.WeightBytesReadPerToken(llama));
    }
}
