using ServerlessTune.Core.Evaluation;
using ServerlessTune.Core.Generation;
using ServerlessTune.Core.Modeling;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Tests.Modeling.Kernels;

/// <summary>
/// bf16 and int8 weights against fp32 and against Transformers on ../shared/fixtures/hf-reference: greedy ids
/// (decoded through the kernel), the mean log-prob error on the reference sequence, and the perplexity of the
/// fixture's validation conversations (the sample's validation split needs a trained model; these are trained).
/// </summary>
public class WeightFormatNumericsTests(ITestOutputHelper output)
{
    public static TheoryData<string, WeightFormat, double> Cases
    {
        get
        {
            var cases = new TheoryData<string, WeightFormat, double>();
            foreach (var arch in HfReference.Architectures)
            {
                cases.Add(arch, WeightFormat.Bf16, 0.01);
                cases.Add(arch, WeightFormat.Int8, 0.03);
            }
            return cases;
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Narrow_weights_keep_greedy_ids_and_perplexity_of_fp32(string arch, WeightFormat format, double perplexityTolerance)
    {
        var reference = HfReference.Load(arch);
        using var fp32 = ChatModel.Load(reference.ModelDirectory);
        using var narrow = ChatModel.Load(reference.ModelDirectory, format: format);
        Assert.Equal(format, narrow.Format);
        Assert.Equal(WeightFormat.Fp32, fp32.Format);

        var fp32Ids = Greedy(fp32, reference);
        var narrowIds = Greedy(narrow, reference);
        Assert.Equal(reference.GreedyIds, fp32Ids);
        var same = fp32Ids.Zip(narrowIds, (a, b) => a == b).Count(equal => equal);

        var logprobError = MeanLogprobError(narrow.Generator.Model, reference);
        var (fp32Perplexity, narrowPerplexity) = (Perplexity(fp32, reference), Perplexity(narrow, reference));
        var change = narrowPerplexity / fp32Perplexity - 1;
        output.WriteLine($"{arch} {format.Name()}: greedy ids equal to fp32 {same}/{fp32Ids.Length}, mean |log-prob error| vs Transformers " +
                         $"{logprobError:E2}, perplexity {narrowPerplexity:F4} vs fp32 {fp32Perplexity:F4} ({change:+0.00%;-0.00%})");
        Assert.True(same >= fp32Ids.Length - 1, $"{arch} {format.Name()}: only {same} of {fp32Ids.Length} greedy ids equal fp32's");
        Assert.True(Math.Abs(change) <= perplexityTolerance, $"{arch} {format.Name()}: perplexity moved {change:P2} from fp32 (limit {perplexityTolerance:P0})");
    }

    [Fact]
    public void A_narrow_model_cannot_be_converted_again()
    {
        using var chat = ChatModel.Load(HfReference.Load("llama").ModelDirectory, format: WeightFormat.Int8);
        Assert.Throws<InvalidOperationException>(() => chat.Generator.Model.ConvertWeights(WeightFormat.Bf16));
    }

    static int[] Greedy(ChatModel chat, HfReference reference) =>
        chat.Generator.Generate([chat.Tokenizer.EncodePlain(reference.Prompt)],
            new GenerationOptions { MaxNewTokens = reference.MaxNewTokens })[0].TokenIds.ToArray();

    /// <summary>Mean over the reference sequence of |log p(next token)| minus Transformers' fp32 figure.</summary>
    static double MeanLogprobError(CausalLM model, HfReference reference)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var input = tensor(reference.SequenceIds.Select(id => (long)id).ToArray(), 1, reference.SequenceIds.Length);
        var logprobs = nn.functional.log_softmax(model.forward(input)[0], -1);
        var next = logprobs[..^1].gather(-1, input[0, 1..].unsqueeze(-1)).squeeze(-1).to(float64).data<double>().ToArray();
        return next.Zip(reference.TargetLogprobs, (a, e) => Math.Abs(a - e)).Average();
    }

    static double Perplexity(ChatModel chat, HfReference reference)
    {
        var conversations = reference.Eval.Select(r => r.Encoding).ToList();
        var totals = LanguageModelScorer.Score(chat.Generator.Model, conversations, conversations.Count, chat.Tokenizer.PadTokenId!.Value);
        return totals.ToMetrics()[MetricCatalog.Perplexity].Value;
    }
}
