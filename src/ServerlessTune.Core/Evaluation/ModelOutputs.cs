namespace ServerlessTune.Core.Evaluation;

/// <summary>
/// What one model produced, computed by the model-based evaluator (or read from files): the seam between
/// running models and measuring them. Name is the model's role in the comparison ("base", "candidate",
/// "production"); Source says where it came from (a path or registry alias). Answers maps every suite
/// case id to the generated answer; null when the model was not run on the suite. FeedbackAnswers does the same for
/// the run's feedback cases.
/// </summary>
public sealed record ModelOutputs(
    string Name,
    string Source,
    LanguageModelTotals? LanguageModel = null,
    IReadOnlyDictionary<string, string>? Answers = null,
    IReadOnlyList<DialogueTranscript>? Dialogues = null,
    IReadOnlyDictionary<string, string>? FeedbackAnswers = null);
