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

public sealed record FileCounts(string Path, string Format, RecordCounts Counts);

public sealed record StageCounts(
    ParseStage Parse, NormaliseStage Normalise, RedactStage Redact, DedupStage Dedup, TokeniseStage Tokenise, SplitStage Split);

public sealed record ParseStage(long Records, long Rejected);
public sealed record NormaliseStage(long Changed, long RejectedEmpty);
public sealed record RedactStage(bool Enabled, long RecordsWithPii, SortedDictionary<string, long> Counts);
public sealed record DedupStage(bool Enabled, double Threshold, long Exact, long Near);
public sealed record TokeniseStage(string Tokenizer, string Template, int MaxTokens, string Policy, long Filtered, long Truncated);
public sealed record SplitStage(int Seed, double ValidationFraction, long Train, long Validation);

/// <summary>Token counts per record as training encodes it; trained tokens are the ones in the loss.</summary>
public sealed record TokenStats(TokenSummary All, TokenSummary Train, TokenSummary Validation, long TrainTokensPerEpoch, long TrainTrainedTokensPerEpoch);

public sealed record TokenSummary(long Records, long Total, long Trained, double Mean, int P50, int P95, int Max);
