namespace ServerlessTune.Core.Evaluation;

/// <summary>Mean answer metrics over <see cref="Count"/> predictions, each in [0, 1].</summary>
public sealed record ScoreSummary(double ExactMatch, double F1, double RougeL, int Count);

/// <summary>Scores a predictions file against a references file (`stune eval score`).</summary>
public static class PredictionScorer
{
    public static ScoreSummary Score(string predictionsPath, string referencesPath)
    {
        var predictions = AnswerFiles.ReadPredictions(predictionsPath);
        var references = AnswerFiles.ReadReferences(referencesPath);
        var referencesById = references.ToDictionary(r => r.Id, StringComparer.Ordinal);
        var predictedIds = predictions.Select(p => p.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var prediction in predictions)
            if (!referencesById.ContainsKey(prediction.Id))
                throw new UserInputException($"{predictionsPath}:{prediction.Line}: id '{prediction.Id}' has no references in {referencesPath}");
        foreach (var reference in references)
            if (!predictedIds.Contains(reference.Id))
                throw new UserInputException($"{referencesPath}:{reference.Line}: id '{reference.Id}' has no prediction in {predictionsPath}");
        if (predictions.Count == 0)
            throw new UserInputException($"{predictionsPath}: no predictions to score");

        var scores = predictions.Select(p => AnswerMetrics.Score(p.Value, referencesById[p.Id].Value)).ToList();
        return new ScoreSummary(
            scores.Average(s => s.ExactMatch),
            scores.Average(s => s.F1),
            scores.Average(s => s.RougeL),
            scores.Count);
    }
}
