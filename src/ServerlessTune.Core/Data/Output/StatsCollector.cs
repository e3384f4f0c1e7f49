using System.Text.Json;
using ServerlessTune.Core.Data.Mapping;
using ServerlessTune.Core.Data.Redaction;

namespace ServerlessTune.Core.Data.Output;

/// <summary>
/// Tallies the consumer's decisions, per file and per stage; single-threaded (the ordered consumer owns it; the reader
/// sets each file's format, encoding and mapping before the file's first record reaches the consumer).
/// </summary>
public sealed class StatsCollector(IReadOnlyList<PrepareInput> inputs)
{
    const int SampleChars = 200;
    // Distinct placeholders remembered for the report; past this, new ones are counted but not listed.
    const int MaxDistinctPlaceholders = 10_000;
    const int TopPlaceholders = 20;

    sealed class Tally { public long Input, Kept, Rejected, Deduplicated, Filtered, Train, Validation; }

    sealed class FileInfo
    {
        public readonly Tally Tally = new();
        public string Format = "";
        public string Encoding = "utf-8";
        public RecordMapping? Mapping;
        public IReadOnlyList<SampleMessage>? Sample;
    }

    readonly FileInfo[] _files = inputs.Select(_ => new FileInfo()).ToArray();
    readonly SortedDictionary<string, long> _reasons = new(StringComparer.Ordinal);
    readonly long[] _pii = new long[PiiRedactor.TypeCount];
    readonly long[] _secrets = new long[SecretDetector.TypeCount];
    readonly Dictionary<string, long> _placeholders = new(StringComparer.Ordinal);
    readonly TokenHistogram _trainTokens = new(), _validationTokens = new();
    long _changed, _empty, _exact, _near, _truncated, _recordsWithPii, _recordsWithSecrets, _recordsWithPlaceholders, _placeholderCount;

    public void SetFormat(int file, string format, string encoding)
    {
        _files[file].Format = format;
        _files[file].Encoding = encoding;
    }

    public void SetMapping(int file, RecordMapping mapping) => _files[file].Mapping = mapping;

    public void Rejected(int file, ProcessedRecord record)
    {
        var tally = _files[file].Tally;
        tally.Input++;
        if (record.Filtered) tally.Filtered++;
        else tally.Rejected++;
        if (record.Rejection!.Reason == RejectReason.EmptyContent) _empty++;
        Reason(record.Rejection.Reason);
        CountFindings(record);
    }

    public void Duplicate(int file, ProcessedRecord record, bool near)
    {
        var tally = _files[file].Tally;
        tally.Input++;
        tally.Deduplicated++;
        if (near) _near++; else _exact++;
        Reason(near ? RejectReason.NearDuplicate : RejectReason.Duplicate);
        TakeSample(file, record);
    }

    public void Kept(int file, ProcessedRecord record, bool validation)
    {
        var tally = _files[file].Tally;
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
        CountFindings(record);
        TakeSample(file, record);
    }

    /// <summary>Secrets and placeholders count wherever they were found, in kept records and in the ones they had removed.</summary>
    void CountFindings(ProcessedRecord record)
    {
        if (record.Secrets is { } secrets && secrets.Any(n => n > 0))
        {
            _recordsWithSecrets++;
            for (int i = 0; i < _secrets.Length; i++) _secrets[i] += secrets[i];
        }
        if (record.Placeholders is { } placeholders)
        {
            _recordsWithPlaceholders++;
            _placeholderCount += placeholders.Count;
            foreach (var placeholder in placeholders)
                if (_placeholders.ContainsKey(placeholder) || _placeholders.Count < MaxDistinctPlaceholders)
                    _placeholders[placeholder] = _placeholders.GetValueOrDefault(placeholder) + 1;
        }
    }

    /// <summary>The file's first record that came through parsing, as written: what the mapping made of the file.</summary>
    void TakeSample(int file, ProcessedRecord record)
    {
        if (_files[file].Sample is not null || record.Json is null) return;
        using var document = JsonDocument.Parse(record.Json);
        _files[file].Sample = [.. document.RootElement.GetProperty("messages").EnumerateArray().Select(m =>
            new SampleMessage(m.GetProperty("role").GetString()!, Clip(m.GetProperty("content").GetString()!)))];
    }

    static string Clip(string text) => text.Length <= SampleChars ? text : text[..SampleChars] + "…";

    void Reason(string reason) => _reasons[reason] = _reasons.GetValueOrDefault(reason) + 1;

    public PrepareStats Build(string datasetVersion, PrepareOptions options, RecordEncoder encoder)
    {
        var files = inputs.Select((input, i) => new FileCounts(input.Path, _files[i].Format, Counts(_files[i].Tally))
        {
            Encoding = _files[i].Encoding, Mapping = _files[i].Mapping, Sample = _files[i].Sample,
        }).ToList();
        var total = new Tally();
        foreach (var f in _files.Select(f => f.Tally))
        {
            total.Input += f.Input; total.Kept += f.Kept; total.Rejected += f.Rejected; total.Deduplicated += f.Deduplicated;
            total.Filtered += f.Filtered; total.Train += f.Train; total.Validation += f.Validation;
        }
        var totals = Counts(total);
        var pii = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var type in Enum.GetValues<PiiType>()) pii[Redactor.KindName(type)] = _pii[(int)type];
        var secrets = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var type in Enum.GetValues<SecretType>()) secrets[Redactor.KindName(type)] = _secrets[(int)type];
        var top = new SortedDictionary<string, long>(
            _placeholders.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).Take(TopPlaceholders).ToDictionary(), StringComparer.Ordinal);
        var stages = new StageCounts(
            new ParseStage(totals.Input, totals.Rejected - _empty),
            new NormaliseStage(_changed, _empty),
            new RedactStage(options.Redact, _recordsWithPii, pii, new SecretStage(Lower(options.Secrets), _recordsWithSecrets, secrets)),
            new PlaceholderStage(Lower(options.Placeholders), _recordsWithPlaceholders, _placeholderCount, top),
            new DedupStage(options.Deduplicate, options.NearDuplicateThreshold, _exact, _near),
            new TokeniseStage(encoder.TokenizerName, encoder.TemplateName, options.MaxTokens, Lower(options.OverLimit), totals.Filtered, _truncated),
            new SplitStage(options.Seed, options.ValidationFraction, totals.Train, totals.Validation));
        var tokens = new TokenStats(
            TokenHistogram.Merge(_trainTokens, _validationTokens).Summary(), _trainTokens.Summary(), _validationTokens.Summary(),
            _trainTokens.Total, _trainTokens.Trained);
        bool holds = totals.Balanced && files.All(f => f.Counts.Balanced);
        return new PrepareStats(datasetVersion, totals, holds, files, stages, new SortedDictionary<string, long>(_reasons, StringComparer.Ordinal), tokens, options);
    }

    static string Lower<T>(T value) where T : struct, Enum => value.ToString().ToLowerInvariant();

    static RecordCounts Counts(Tally t) => new(t.Input, t.Kept, t.Rejected, t.Deduplicated, t.Filtered, t.Train, t.Validation);
}
