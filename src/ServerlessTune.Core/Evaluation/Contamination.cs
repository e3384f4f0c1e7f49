using ServerlessTune.Core.Chat;
using ServerlessTune.Core.Data.Dedup;
using ServerlessTune.Core.Training;

namespace ServerlessTune.Core.Evaluation;

/// <summary>An evaluation case or scripted dialogue, and the training record whose user turn its question nearly repeats.</summary>
public sealed record ContaminationMatch(string Id, bool Dialogue, double Similarity, int TrainLine);

/// <summary>
/// How much of the evaluation the model has seen: the suite cases and dialogues with a near-duplicate question in
/// train.jsonl, and each model's suite metrics over the clean and the contaminated cases separately (Subsets, tags
/// "clean" and "contaminated"). Scores on contaminated cases measure memory; the clean ones measure the domain.
/// </summary>
public sealed record ContaminationReport(
    string TrainFile, double Threshold, long TrainTurns, int SuiteCases, int Dialogues, IReadOnlyList<ContaminationMatch> Matches)
{
    public const string Clean = "clean", Contaminated = "contaminated";

    public IReadOnlyList<TagSummary> Subsets { get; init; } = [];

    public bool IsContaminated(string caseId) => Matches.Any(m => !m.Dialogue && m.Id == caseId);

    public int ContaminatedCases => Matches.Count(m => !m.Dialogue);

    public int ContaminatedDialogues => Matches.Count(m => m.Dialogue);
}

/// <summary>
/// Finds evaluation questions in the training data with data preparation's own near-duplicate test (word-shingle
/// MinHash, <see cref="NearDuplicateIndex"/>) at its threshold: a case is contaminated when its question, the last
/// user turn, nearly repeats a user turn of some training record; a dialogue when any of its scripted turns does.
/// Answers are not compared: a domain model is meant to have learnt the answers, the test is whether it has seen
/// the questions. Memory grows with the training turns (about 150 bytes each), never with their text.
/// </summary>
public static class ContaminationCheck
{
    public static ContaminationReport Measure(string trainFile, EvalSuite? suite, IReadOnlyList<DialogueScript>? dialogues, double threshold)
    {
        var index = new NearDuplicateIndex();
        var lines = new List<int>();
        foreach (var record in PreparedChatFile.ReadLines(trainFile))
            foreach (var message in record.Messages)
                if (message.Role == ChatMessage.User && !record.IsPassage)
                {
                    index.Add(MinHasher.Signature([message.Content]));
                    lines.Add(record.Line);
                }

        var matches = new List<ContaminationMatch>();
        ContaminationMatch? Find(string id, bool dialogue, string text) =>
            MinHasher.Signature([text]) is { } signature && index.TryFind(signature, threshold, out int found, out double similarity)
                ? new ContaminationMatch(id, dialogue, Math.Round(similarity, 3), lines[found]) : null;
        foreach (var c in suite?.Cases ?? [])
            if (Find(c.Id, false, c.Question) is { } match) matches.Add(match);
        foreach (var script in dialogues ?? [])
            if (script.Turns.Select(turn => Find(script.Id, true, turn)).FirstOrDefault(m => m is not null) is { } match) matches.Add(match);
        return new ContaminationReport(trainFile, threshold, index.Count, suite?.Cases.Count ?? 0, dialogues?.Count ?? 0, matches);
    }
}
