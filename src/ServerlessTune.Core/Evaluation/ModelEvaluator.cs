using ServerlessTune.Core.Generation;
using ServerlessTune.Core.PipelineConfig;

namespace ServerlessTune.Core.Evaluation;

/// <summary>
/// Runs models on an <see cref="EvaluationPlan"/>, one metric family at a time: the half of an evaluation that
/// needs libtorch. The evaluation job and the CLI call <see cref="RunAllAsync"/>, which loads each model once for
/// all families; <see cref="EvaluationPlan.Report"/> is the fan-in.
/// </summary>
public sealed class ModelEvaluator(EvaluationPlan plan, Action<string>? log = null)
{
    readonly Action<string> log = log ?? (_ => { });

    /// <param name="families">The families to run; null runs every family the plan has inputs for.</param>
    public async Task<IReadOnlyList<FamilyOutput>> RunAllAsync(EvaluatedModel model, IReadOnlyList<string>? families = null,
        CancellationToken cancellationToken = default)
    {
        plan.Validate();
        families ??= plan.Families();
        foreach (var family in families)
        {
            if (!EvalOptions.AllFamilies.Contains(family))
                throw new UserInputException($"unknown evaluation family '{family}' (known: {string.Join(", ", EvalOptions.AllFamilies)})");
            if (family == EvalOptions.Dialogues && plan.DialoguesFile is null)
                throw new UserInputException("the dialogues family needs a dialogue file");
        }
        using var chat = Load(model);
        var outputs = new List<FamilyOutput>();
        foreach (var family in families)
            outputs.Add(await RunAsync(chat, model, family, cancellationToken));
        return outputs;
    }

    ChatModel Load(EvaluatedModel model)
    {
        log($"{model.Name}: loading {model.DisplaySource}");
        return ChatModel.Load(model.ModelDirectory, model.AdapterDirectory, plan.ChatTemplate, model.Format);
    }

    async Task<FamilyOutput> RunAsync(ChatModel chat, EvaluatedModel model, string family, CancellationToken cancellationToken)
    {
        var output = new FamilyOutput(family, model.Name, model.DisplaySource);
        switch (family)
        {
            case EvalOptions.LanguageModel:
                var conversations = ValidationConversations.Load(plan.ValidationFile, chat.Template, chat.Tokenizer, chat.Generator.Model.Config.MaxPositions);
                log($"{model.Name}: language modelling over {conversations.Count} validation conversations");
                var padId = chat.Tokenizer.PadTokenId ?? chat.Tokenizer.EosTokenId ?? 0;
                return output with { LanguageModel = LanguageModelScorer.Score(chat.Generator.Model, conversations, plan.BatchSize, padId, cancellationToken) };
            case EvalOptions.QuestionAnswering:
                var suite = plan.LoadSuite();
                var answers = SuiteAnswerer.Answer(chat, suite, plan.Decoding, plan.BatchSize,
                    (done, total, _) => log($"{model.Name}: answered {done}/{total} suite cases"), cancellationToken);
                return output with { Answers = answers };
            case EvalOptions.Dialogues:
                var scripts = DialogueScript.Load(plan.DialoguesFile!);
                log($"{model.Name}: playing {scripts.Count} dialogues");
                return output with { Dialogues = await DialogueRunner.RunAsync(chat, model.Name, scripts, plan.Decoding, cancellationToken) };
            case EvalOptions.Feedback:
                var feedback = plan.LoadFeedback().AsSuite();
                var fixes = SuiteAnswerer.Answer(chat, feedback, plan.Decoding, plan.BatchSize,
                    (done, total, _) => log($"{model.Name}: answered {done}/{total} feedback cases"), cancellationToken);
                return output with { FeedbackAnswers = fixes };
            default:
                throw new ArgumentException($"unknown evaluation family '{family}'", nameof(family));
        }
    }
}
