using ServerlessTune.Core.Generation;
using ServerlessTune.Core.Pipeline;

namespace ServerlessTune.Core.Evaluation;

/// <summary>
/// Runs models on an <see cref="EvaluationPlan"/>, one metric family at a time: the fan-out half of an
/// evaluation. A pipeline activity calls <see cref="RunAsync(EvaluatedModel, string, CancellationToken)"/> for
/// its family and model; the CLI calls <see cref="RunAllAsync"/>, which loads each model once for all families.
/// <see cref="Report"/> is the fan-in.
/// </summary>
public sealed class ModelEvaluator(EvaluationPlan plan, Action<string>? log = null)
{
    readonly Action<string> log = log ?? (_ => { });

    public async Task<FamilyOutput> RunAsync(EvaluatedModel model, string family, CancellationToken cancellationToken = default)
    {
        plan.Validate();
        if (!EvalSettings.AllFamilies.Contains(family))
            throw new UserInputException($"unknown evaluation family '{family}' (known: {string.Join(", ", EvalSettings.AllFamilies)})");
        if (family == EvalSettings.Dialogues && plan.DialoguesFile is null)
            throw new UserInputException("the dialogues family needs a dialogue file");
        using var chat = Load(model);
        return await RunAsync(chat, model, family, cancellationToken);
    }

    public async Task<IReadOnlyList<FamilyOutput>> RunAllAsync(EvaluatedModel model, CancellationToken cancellationToken = default)
    {
        plan.Validate();
        using var chat = Load(model);
        var outputs = new List<FamilyOutput>();
        foreach (var family in plan.Families())
            outputs.Add(await RunAsync(chat, model, family, cancellationToken));
        return outputs;
    }

    /// <summary>The fan-in: merges every family's output and measures them into one report.</summary>
    public EvaluationReport Report(string runId, IEnumerable<FamilyOutput> outputs, string candidate, EvaluationOptions options,
        QualityGateConfig? gate = null, TrainingCurve? training = null)
    {
        var models = FamilyOutput.Merge(outputs);
        var suite = models.Any(m => m.Answers is not null) ? plan.LoadSuite() : null;
        var contamination = plan.TrainFile is null ? null : ContaminationCheck.Measure(plan.TrainFile, suite,
            plan.DialoguesFile is null ? null : DialogueScript.Load(plan.DialoguesFile), plan.ContaminationThreshold);
        var settings = new Dictionary<string, string>(options.Settings);
        foreach (var (key, value) in plan.ReportSettings())
            settings[key] = value;
        return new EvaluationService(options with { Settings = settings }).Evaluate(runId, suite, models, candidate, gate, training, contamination);
    }

    ChatModel Load(EvaluatedModel model)
    {
        log($"{model.Name}: loading {model.DisplaySource}");
        return ChatModel.Load(model.ModelDirectory, model.AdapterDirectory, plan.ChatTemplate);
    }

    async Task<FamilyOutput> RunAsync(ChatModel chat, EvaluatedModel model, string family, CancellationToken cancellationToken)
    {
        var output = new FamilyOutput(family, model.Name, model.DisplaySource);
        switch (family)
        {
            case EvalSettings.LanguageModel:
                var conversations = ValidationConversations.Load(plan.ValidationFile, chat.Template, chat.Tokenizer, chat.Generator.Model.Config.MaxPositions);
                log($"{model.Name}: language modelling over {conversations.Count} validation conversations");
                var padId = chat.Tokenizer.PadTokenId ?? chat.Tokenizer.EosTokenId ?? 0;
                return output with { LanguageModel = LanguageModelScorer.Score(chat.Generator.Model, conversations, plan.BatchSize, padId, cancellationToken) };
            case EvalSettings.QuestionAnswering:
                var suite = plan.LoadSuite();
                var answers = SuiteAnswerer.Answer(chat, suite, plan.Decoding, plan.BatchSize,
                    (done, total, _) => log($"{model.Name}: answered {done}/{total} suite cases"), cancellationToken);
                return output with { Answers = answers };
            case EvalSettings.Dialogues:
                var scripts = DialogueScript.Load(plan.DialoguesFile!);
                log($"{model.Name}: playing {scripts.Count} dialogues");
                return output with { Dialogues = await DialogueRunner.RunAsync(chat, model.Name, scripts, plan.Decoding, cancellationToken) };
            default:
                throw new ArgumentException($"unknown evaluation family '{family}'", nameof(family));
        }
    }
}
