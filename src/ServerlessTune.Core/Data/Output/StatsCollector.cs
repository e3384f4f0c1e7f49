using ServerlessTune.Core.Data.Redaction;

namespace ServerlessTune.Core.Data.Output;

/// <summary>Tallies the consumer's decisions, per file and per stage; single-threaded (the ordered consumer owns it).</summary>
public sealed class StatsCollector(IReadOnlyList<PrepareInput> inputs)
{
    sealed class Tally { public long Input, Kept, Rejected, Deduplicated, Filtered, Train, Validation; }

    readonly Tally[] _files = inputs.Select(_ => new Tally()).ToArray();
    readonly string[] _formats = inputs.Select(_ => "").ToArray();
    readonly SortedDictionary<string, long> _reasons = new(StringComparer.Ordinal);
    readonly long[] _pii = new long[PiiRedactor.TypeCount];
    readonly TokenHistogram _trainTokens = new(), _validationTokens = new();
    long _changed, _empty, _exact, _near, _truncated, _recordsWithPii;

    public void SetFormat(int file, string format) => _formats[file] = format;

    public void Rejected(int file, ProcessedRecord record)
    {
        _files[file].Input++;
        if (record.Filtered) _files[file].Filtered++;
        else _files[file].Rejected++;
        if (record.Rejection!.Reason == RejectReason.EmptyContent) _empty++;
        Reason(record.Rejection.Reason);
    }

    public void Duplicate(int file, bool near)
    {
        _files[file].Input++;
        _files[file].Deduplicated++;
        if (near) _near++; else _exact++;
        Reason(near ? RejectReason.NearDuplicate : RejectReason.Duplicate);
    }

    public void Kept(int file, ProcessedRecord record, bool validation)
    {
        var tally = _files[file];
        tally.Input++;
        tally.Kept++;
        if (validation) tally.Validation++;
        else tally.Train++;
        (validation ? _validationTokens : _trainTokens).Add(record.Tokens, record.TrainedTokens);
        if (record.Truncated) _truncated++;
        if (record.NormalisationChanged) _changed++;
        bool any = false;
        for (int i = 0; i < _pii.Length; i++) { _pii[i] += record.Pii![i]; any |= record.Pii[i] > 0; }
        if (any) _recordsWithPii++;
    }

    void Reason(string reason) => _reasons[reason] = _reasons.GetValueOrDefault(reason) + 1;

    public PrepareStats Build(string datasetVersion, PrepareOptions options, RecordEncoder encoder)
    {
        var files = inputs.Select((input, i) => new FileCounts(input.Path, _formats[i], Counts(_files[i]))).ToList();
        var total = new Tally();
        foreach (var f in _files)
        {
            total.Input += f.Input; total.Kept += f.Kept; total.Rejected += f.Rejected; total.Deduplicated += f.Deduplicated;
            total.Filtered += f.Filtered; total.Train += f.Train; total.Validation += f.Validation;
        }
        var totals = Counts(total);
        var pii = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var type in Enum.GetValues<PiiType>()) pii[PiiRedactor.Placeholder(type).Trim('[', ']')] = _pii[(int)type];
        var stages = new StageCounts(
            new ParseStage(totals.Input, totals.Rejected - _empty),
            new NormaliseStage(_changed, _empty),
            new RedactStage(options.Redact, _recordsWithPii, pii),
            new DedupStage(options.Deduplicate, options.NearDuplicateThreshold, _exact, _near),
            new TokeniseStage(encoder.TokenizerName, encoder.TemplateName, options.MaxTokens, options.OverLimit.ToString().ToLowerInvariant(), totals.Filtered, _truncated),
            new SplitStage(options.Seed, options.ValidationFraction, totals.Train, totals.Validation));
        var tokens = new TokenStats(
            TokenHistogram.Merge(_trainTokens, _validationTokens).Summary(), _trainTokens.Summary(), _validationTokens.Summary(),
            _trainTokens.Total, _trainTokens.Trained);
        bool holds = totals.Balanced && files.All(f => f.Counts.Balanced);
        return new PrepareStats(datasetVersion, totals, holds, files, stages, new SortedDictionary<string, long>(_reasons, StringComparer.Ordinal), tokens, options);
    }

    static RecordCounts Counts(Tally t) => new(t.Input, t.Kept, t.Rejected, t.Deduplicated, t.Filtered, t.Train, t.Validation);
}
