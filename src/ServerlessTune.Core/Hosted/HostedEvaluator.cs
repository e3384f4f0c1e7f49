using ServerlessTune.Core.Chat;
using ServerlessTune.Core.Evaluation;
using ServerlessTune.Core.PipelineConfig;

namespace ServerlessTune.Core.Hosted;

/// <summary>A model of a hosted comparison: its role (base, candidate, production), how to call it, what the report names it by.</summary>
public sealed record HostedEvaluatedModel(string Name, HostedTarget Target, string Source);

/// <summary>
/// The hosted half of an evaluation: every model answers the same suite and plays the same dialogues through chat
/// completions, greedily, and the outputs have the open models' shape, so the fan-in, the report and the gate are
/// the same. The language-model family needs the log-probabilities of the prompt's tokens, which chat completions
/// do not return; pipeline.json refuses it (and gate rules on it) for hosted bases, so it never reaches here.
/// </summary>
public sealed class HostedEvaluator(IHostedModels hosted, EvaluationPlan plan, Action<string>? log = null)
{
    readonly Action<string> log = log ?? (_ => { });

    public async Task<IReadOnlyList<FamilyOutput>> RunAsync(HostedEvaluatedModel model, IReadOnlyList<string> families, CancellationToken ct = default)
    {
        var outputs = new List<FamilyOutput>();
        foreach (var family in families)
        {
            var output = new FamilyOutput(family, model.Name, model.Source);
            outputs.Add(family switch
            {
                EvalOptions.QuestionAnswering => output with { Answers = await AnswerAsync(model, plan.LoadSuite(), "suite", ct) },
                EvalOptions.Feedback => output with { FeedbackAnswers = await AnswerAsync(model, plan.LoadFeedback().AsSuite(), "feedback", ct) },
                EvalOptions.Dialogues => output with { Dialogues = await PlayDialoguesAsync(model, ct) },
                _ => throw new ArgumentException($"the '{family}' family is not available for hosted models", nameof(families)),
            });
        }
        return outputs;
    }

    async Task<IReadOnlyDictionary<string, string>> AnswerAsync(HostedEvaluatedModel model, EvalSuite suite, string what, CancellationToken ct)
    {
        var answers = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var testCase in suite.Cases)
            answers[testCase.Id] = await hosted.ChatAsync(model.Target, testCase.Messages, plan.Decoding.MaxNewTokens, ct);
        log($"{model.Name}: answered {answers.Count} {what} cases through {model.Target.Name}");
        return answers;
    }

    async Task<IReadOnlyList<DialogueTranscript>> PlayDialoguesAsync(HostedEvaluatedModel model, CancellationToken ct)
    {
        var transcripts = new List<DialogueTranscript>();
        foreach (var script in DialogueScript.Load(plan.DialoguesFile!))
        {
            var messages = new List<ChatMessage>();
            if (script.System is not null) messages.Add(new ChatMessage(ChatMessage.System, script.System));
            foreach (var turn in script.Turns)
            {
                messages.Add(new ChatMessage(ChatMessage.User, turn));
                messages.Add(new ChatMessage(ChatMessage.Assistant, await hosted.ChatAsync(model.Target, messages, plan.Decoding.MaxNewTokens, ct)));
            }
            transcripts.Add(new DialogueTranscript(script.Id, model.Name, messages));
        }
        log($"{model.Name}: played {transcripts.Count} dialogues through {model.Target.Name}");
        return transcripts;
    }
}
