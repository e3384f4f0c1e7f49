namespace ServerlessTune.Core.Data;

/// <summary>What a worker made of one record; the ordered consumer then deduplicates, splits and writes it.</summary>
public sealed class ProcessedRecord
{
    public required long Line { get; init; }
    /// <summary>Set when the record was rejected (bad input, a secret under prepare.secrets: reject) or filtered (token limit, placeholders).</summary>
    public Rejection? Rejection { get; init; }
    public bool Filtered { get; init; }
    public UInt128 Key { get; init; }
    public byte[]? Signature { get; init; }
    public int Tokens { get; init; }
    public int TrainedTokens { get; init; }
    public bool Truncated { get; init; }
    public bool NormalisationChanged { get; init; }
    public int[]? Pii { get; init; }
    /// <summary>Secrets found, by <see cref="Redaction.SecretType"/>: redacted in a kept record, the reason of a rejected one.</summary>
    public int[]? Secrets { get; init; }
    /// <summary>Template placeholders found in the answers, null when none.</summary>
    public List<string>? Placeholders { get; init; }
    /// <summary>The record as a train/validation JSONL line, newline included.</summary>
    public byte[]? Json { get; init; }
}
