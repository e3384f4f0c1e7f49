using ServerlessTune.Core.Evaluation;
using ServerlessTune.Core.Generation;
using ServerlessTune.Core.Modeling;
using ServerlessTune.Core.PipelineConfig;
using ServerlessTune.Core.Tokenization;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Tests.Modeling;

/// <summary>
/// Our loader, tokenizer, forward pass, decoding and scorer against the numbers Hugging Face Transformers
/// computed on the same checkpoints (../shared/fixtures/hf-reference): not the code against itself.
/// fp32 on another CPU moves log-probabilities by about 1e-6; greedy ids must be identical.
/// </summary>
public class HfReferenceTests(ITestOutputHelper output)
{
    const double Tolerance = 1e-4;

    [Theory]
    [MemberData(nameof(HfReference.All), MemberType = typeof(HfReference))]
    public void Tokenizer_gives_the_prompt_ids_of_transformers(string arch)
    {
        var reference = HfReference.Load(arch);
        var tokenizer = TokenizerLoader.Load(reference.ModelDirectory);
        Assert.Equal(reference.PromptIds, tokenizer.EncodePlain(reference.Prompt));
    }

    [Theory]
    [MemberData(nameof(HfReference.All), MemberType = typeof(HfReference))]
    public void Greedy_decoding_with_the_kv_cache_equals_transformers(string arch)
    {
        var reference = HfReference.Load(arch);
        using var chat = ChatModel.Load(reference.ModelDirectory);
        var result = chat.Generator.Generate([chat.Tokenizer.EncodePlain(reference.Prompt)],
            new GenerationOptions { MaxNewTokens = reference.MaxNewTokens })[0];
        Assert.Equal(reference.GreedyIds, result.TokenIds);
    }

    [Theory]
    [MemberData(nameof(HfReference.All), MemberType = typeof(HfReference))]
    public void Greedy_decoding_by_full_recomputation_equals_transformers(string arch)
    {
        var reference = HfReference.Load(arch);
        using var model = Checkpoint.Load(reference.ModelDirectory);
        using var noGrad = no_grad();
        var ids = reference.PromptIds.Select(id => (long)id).ToList();
        for (var step = 0; step < reference.MaxNewTokens; step++)
        {
            using var scope = NewDisposeScope();
            var logits = model.forward(tensor(ids.ToArray(), 1, ids.Count));
            ids.Add(logits[0, -1].argmax().item<long>());
        }
        Assert.Equal(reference.GreedyIds, ids.Skip(reference.PromptIds.Length).Select(id => (int)id));
    }

    [Theory]
    [MemberData(nameof(HfReference.All), MemberType = typeof(HfReference))]
    public void Log_probabilities_equal_transformers(string arch)
    {
        var reference = HfReference.Load(arch);
        using var model = Checkpoint.Load(reference.ModelDirectory);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var (logprobs, targets) = LogProbabilities(model, reference.SequenceIds);
        var targetError = MaxError(targets, reference.TargetLogprobs);

        var (full, shape) = reference.FullLogprobs();
        Assert.Equal([reference.SequenceIds.Length, model.Config.VocabSize], shape);
        var fullError = (logprobs - tensor(full).view(shape)).abs().max().item<float>();

        output.WriteLine($"{arch}: max |log-prob error| {targetError:E2} over {targets.Length} targets, {fullError:E2} over [{string.Join(", ", shape)}]");
        Assert.True(targetError <= Tolerance, $"{arch}: target log-probabilities differ from Transformers by up to {targetError}");
        Assert.True(fullError <= Tolerance, $"{arch}: logprobs.npy differs by up to {fullError}");
    }

    [Theory]
    [MemberData(nameof(HfReference.All), MemberType = typeof(HfReference))]
    public void Per_token_nll_of_each_eval_record_equals_transformers(string arch)
    {
        var reference = HfReference.Load(arch);
        using var model = Checkpoint.Load(reference.ModelDirectory);
        using var noGrad = no_grad();
        var errors = reference.Eval.Select(record =>
        {
            using var scope = NewDisposeScope();
            return MaxError(LogProbabilities(model, record.Ids).Next.Select(l => -l).ToArray(), record.Nll);
        }).ToArray();
        output.WriteLine($"{arch}: max |per-token NLL error| {errors.Max():E2} over {reference.Eval.Sum(r => r.Nll.Length)} tokens");
        for (var i = 0; i < errors.Length; i++)
            Assert.True(errors[i] <= Tolerance, $"{arch}: eval record {i}: per-token NLL differs from Transformers by up to {errors[i]}");
    }

    /// <summary>Batch size 1 and a right-padded batch of all three give Transformers' figures.</summary>
    [Theory]
    [MemberData(nameof(HfReference.All), MemberType = typeof(HfReference))]
    public void Scorer_gives_the_eval_metrics_of_transformers(string arch)
    {
        var reference = HfReference.Load(arch);
        using var model = Checkpoint.Load(reference.ModelDirectory);
        var padId = TokenizerLoader.Load(reference.ModelDirectory).PadTokenId!.Value;
        var conversations = reference.Eval.Select(r => r.Encoding).ToList();
        foreach (var batchSize in new[] { 1, conversations.Count })
            AssertMetrics(reference, LanguageModelScorer.Score(model, conversations, batchSize, padId), $"{arch}, batch size {batchSize}");
    }

    /// <summary>eval/validation.jsonl as prepared records, through the language-model family of an evaluation.</summary>
    [Theory]
    [MemberData(nameof(HfReference.All), MemberType = typeof(HfReference))]
    public async Task Evaluation_of_the_prepared_validation_file_gives_the_eval_metrics_of_transformers(string arch)
    {
        var reference = HfReference.Load(arch);
        using (var chat = ChatModel.Load(reference.ModelDirectory, templateName: "plain"))
        {
            var rendered = ValidationConversations.Load(reference.ValidationFile, chat.Template, chat.Tokenizer, chat.Generator.Model.Config.MaxPositions);
            Assert.Equal(reference.Eval.Select(r => r.Ids), rendered.Select(c => c.Ids));
            Assert.Equal(reference.Eval.Select(r => r.AssistantMask), rendered.Select(c => c.AssistantMask));
        }
        var plan = new EvaluationPlan { ValidationFile = reference.ValidationFile, ChatTemplate = "plain", BatchSize = 2 };
        var family = (await new ModelEvaluator(plan).RunAllAsync(new EvaluatedModel("base", reference.ModelDirectory), [EvalOptions.LanguageModel])).Single();
        AssertMetrics(reference, family.LanguageModel!, $"{arch}, {reference.ValidationFile}");
    }

    static void AssertMetrics(HfReference reference, LanguageModelTotals totals, string what)
    {
        Assert.Equal(reference.EvalAssistantTokens, totals.AssistantTokens);
        Assert.Equal(reference.EvalAllTokens, totals.AllTokens);
        var metrics = totals.ToMetrics();
        foreach (var (name, expected) in new[]
                 {
                     (MetricCatalog.Nll, reference.EvalNll), (MetricCatalog.NllAll, reference.EvalNllAll),
                     (MetricCatalog.Top1Accuracy, reference.EvalTop1),
                 })
        {
            var actual = metrics[name].Value;
            Assert.True(Math.Abs(actual - expected) <= Tolerance, $"{what}: {name} is {actual}, Transformers gives {expected}");
        }
    }

    /// <summary>The log-softmax over the vocabulary at every position of ids [T, V], and log p(ids[t + 1]) for each t.</summary>
    static (Tensor LogProbs, double[] Next) LogProbabilities(CausalLM model, int[] ids)
    {
        var input = tensor(ids.Select(id => (long)id).ToArray(), 1, ids.Length);
        var logprobs = nn.functional.log_softmax(model.forward(input)[0], -1);
        var next = logprobs[..^1].gather(-1, input[0, 1..].unsqueeze(-1)).squeeze(-1).to(float64).data<double>().ToArray();
        return (logprobs, next);
    }

    static double MaxError(double[] actual, double[] expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        return actual.Zip(expected, (a, e) => Math.Abs(a - e)).Max();
    }
}
