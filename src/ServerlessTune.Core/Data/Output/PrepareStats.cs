using System.Text.Json.Serialization;
using ServerlessTune.Core.Data.Mapping;

namespace ServerlessTune.Core.Data.Output;

/// <summary>
/// stats.json: what every stage did, and the proof that each input record is counted once. Feedback (when the run read the
/// served conversations) accounts for every rating: the chats it gave are counted again as records of their input file.
/// </summary>
public sealed record PrepareStats(
    string DatasetVersion,
    RecordCounts Totals,
    bool AccountingHolds,
    IReadOnlyList<FileCounts> Files,
    StageCounts Stages,
    SortedDictionary<string, long> Reasons,
    TokenStats Tokens,
    PrepareOptions Options,
    Feedback.FeedbackStats? Feedback = null);

/// <summary>input = kept + rejected + deduplicated + filtered; kept = train + validation.</summary>
public sealed record RecordCounts(long Input, long Kept, long Rejected, long Deduplicated, long Filtered, long Train, long Validation)
{
    public bool Balanced => Input == Kept + Rejected + Deduplicated + Filtered && Kept == Train + Validation;
}

/// <summary>
/// One input file: how it was read (format, encoding, the fields used for each role) and the first record it gave,
/// as it was written (normalised and redacted), so a wrong mapping shows before anything is trained on it.
/// </summary>
public sealed record FileCounts(string Path, string Format, RecordCounts Counts)
{
    public string Encoding { get; init; } = "utf-8";
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public RecordMapping? Mapping { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<SampleMessage>? Sample { get; init; }
}

/// <summary>A turn of the sample record; long contents are cut.</summary>
public sealed record SampleMessage(string Role, string Content);

public sealed record StageCounts(
    ParseStage Parse, NormaliseStage Normalise, RedactStage Redact, PlaceholderStage Placeholders, DedupStage Dedup, TokeniseStage Tokenise, SplitStage Split);

public sealed record ParseStage(long Records, long Rejected);
public sealed record NormaliseStage(long Changed, long RejectedEmpty);
/// <summary>Personal data (when enabled) and secrets (always): records touched and placeholders written, by kind.</summary>
public sealed record RedactStage(bool Enabled, long RecordsWithPii, SortedDictionary<string, long> Counts, SecretStage Secrets);
/// <summary>Secrets found, by kind, in kept records (redacted) or rejected ones (prepare.secrets: reject).</summary>
public sealed record SecretStage(string Policy, long Records, SortedDictionary<string, long> Counts);
/// <summary>Template placeholders in answers: records holding any, all occurrences, and the most frequent ones.</summary>
public sealed record PlaceholderStage(string Policy, long Records, long Occurrences, SortedDictionary<string, long> Top);
public sealed record DedupStage(bool Enabled, double Threshold, long Exact, long Near);
public sealed record TokeniseStage(string Tokenizer, string Template, int MaxTokens, string Policy, long Filtered, long Truncated);
public sealed record SplitStage(int Seed, double ValidationFraction, long Train, long Validation);

/// <summary>Token counts per record as training encodes it; trained tokens are the ones in the loss.</summary>
public sealed record TokenStats(TokenSummary All, TokenSummary Train, TokenSummary Validation, long TrainTokensPerEpoch, long TrainTrainedTokensPerEpoch);

public sealed record TokenSummary(long Records, long Total, long Trained, double Mean, int P50, int P95, int Max);
