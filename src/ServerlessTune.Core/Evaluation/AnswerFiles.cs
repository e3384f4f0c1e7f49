using ServerlessTune.Core.Common;

namespace ServerlessTune.Core.Evaluation;

/// <summary>
/// Answers produced outside ServerlessTune (another system, an earlier run) as {"id","prediction"} JSONL, and the
/// references they are scored against as {"id","references":[...]} JSONL.
/// </summary>
public static class AnswerFiles
{
    /// <summary>{"id","prediction"} lines: a model's answer per case. Other keys are ignored.</summary>
    public static List<Identified<string>> ReadPredictions(string path) =>
        IdentifiedRecords.Read(path, r => JsonFields.RequiredString(r.Value, "prediction", r.Where));

    /// <summary>{"id","references":[...]} lines; [""] marks a question whose correct answer is empty. Other keys are ignored.</summary>
    public static List<Identified<IReadOnlyList<string>>> ReadReferences(string path) =>
        IdentifiedRecords.Read(path, r =>
        {
            var references = JsonFields.OptionalStrings(r.Value, "references", r.Where)
                ?? throw new UserInputException($"{r.Where}: references: missing");
            if (references.Count == 0)
                throw new UserInputException($"{r.Where}: references: empty (use [\"\"] when the expected answer is empty)");
            return references;
        });

    /// <summary>One answer per suite case, no more and no fewer.</summary>
    public static IReadOnlyDictionary<string, string> ReadForSuite(string path, EvalSuite suite)
    {
        var predictions = ReadPredictions(path);
        var caseIds = suite.Cases.Select(c => c.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var prediction in predictions)
            if (!caseIds.Contains(prediction.Id))
                throw new UserInputException($"{path}:{prediction.Line}: id '{prediction.Id}' is not a case of {suite.Source}");
        var answers = predictions.ToDictionary(p => p.Id, p => p.Value, StringComparer.Ordinal);
        var unanswered = suite.Cases.Where(c => !answers.ContainsKey(c.Id)).Select(c => c.Id).ToList();
        if (unanswered.Count > 0)
            throw new UserInputException($"{path}: no prediction for {unanswered.Count} case(s) of {suite.Source}, first '{unanswered[0]}'");
        return answers;
    }
}
