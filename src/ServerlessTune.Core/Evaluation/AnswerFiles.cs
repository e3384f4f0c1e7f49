namespace ServerlessTune.Core.Evaluation;

/// <summary>Answers produced outside ServerlessTune (another system, an earlier run) as {"id","prediction"} JSONL, matched to a suite.</summary>
public static class AnswerFiles
{
    /// <summary>One answer per suite case, no more and no fewer.</summary>
    public static IReadOnlyDictionary<string, string> ReadForSuite(string path, EvalSuite suite)
    {
        var predictions = IdentifiedRecords.ReadPredictions(path);
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
