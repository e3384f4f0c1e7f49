namespace ServerlessTune.Core.Evaluation;

/// <summary>One family's figures for every model evaluated (base, candidate, production): runs/{runId}/eval/{family}.json.</summary>
public sealed record FamilyResult(string Family, IReadOnlyList<FamilyOutput> Outputs);

/// <summary>
/// What one metric family produced for one model: the partial result the evaluation job writes (plain,
/// JSON-serialisable data; totals rather than means, so nothing is lost before the fan-in). Exactly the
/// member of its family is set: LanguageModel, Answers (case id -> answer), Dialogues or FeedbackAnswers
/// (feedback case id -> answer).
/// </summary>
public sealed record FamilyOutput(
    string Family,
    string Model,
    string Source,
    LanguageModelTotals? LanguageModel = null,
    IReadOnlyDictionary<string, string>? Answers = null,
    IReadOnlyList<DialogueTranscript>? Dialogues = null,
    IReadOnlyDictionary<string, string>? FeedbackAnswers = null)
{
    /// <summary>
    /// The fan-in: one <see cref="ModelOutputs"/> per model, in order of first appearance. A model must come
    /// from one source, and each of its families may arrive once (outputs merged twice must not count twice).
    /// </summary>
    public static IReadOnlyList<ModelOutputs> Merge(IEnumerable<FamilyOutput> outputs)
    {
        var merged = new List<ModelOutputs>();
        foreach (var group in outputs.GroupBy(o => o.Model, StringComparer.Ordinal))
        {
            var sources = group.Select(o => o.Source).Distinct(StringComparer.Ordinal).ToList();
            if (sources.Count > 1)
                throw new ArgumentException($"model '{group.Key}' comes from more than one source: {string.Join(", ", sources)}", nameof(outputs));
            var repeated = group.GroupBy(o => o.Family, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
            if (repeated is not null)
                throw new ArgumentException($"model '{group.Key}' has the family '{repeated.Key}' more than once", nameof(outputs));
            merged.Add(new ModelOutputs(
                group.Key,
                sources[0],
                group.Select(o => o.LanguageModel).SingleOrDefault(l => l is not null),
                group.Select(o => o.Answers).SingleOrDefault(a => a is not null),
                group.Select(o => o.Dialogues).SingleOrDefault(d => d is not null),
                group.Select(o => o.FeedbackAnswers).SingleOrDefault(a => a is not null)));
        }
        return merged;
    }
}
