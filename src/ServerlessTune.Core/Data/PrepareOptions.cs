namespace ServerlessTune.Core.Data;

/// <summary>How an input file is read. Auto detects by content first, then by extension.</summary>
public enum InputFormat { Auto, Jsonl, Json, Csv, Tsv, Transcript, Document, Parquet }

/// <summary>What happens to a record longer than <see cref="PrepareOptions.MaxTokens"/>.</summary>
public enum OverLimitPolicy { Drop, Truncate }

/// <summary>Every knob of data preparation. Part of the dataset version, so it must stay serialisable and ordered.</summary>
public sealed record PrepareOptions
{
    public InputFormat Format { get; init; } = InputFormat.Auto;
    public string Tokenizer { get; init; } = "gpt2";
    public string Template { get; init; } = "chatml";
    public int MaxTokens { get; init; } = 2048;
    public OverLimitPolicy OverLimit { get; init; } = OverLimitPolicy.Drop;
    public double ValidationFraction { get; init; } = 0.1;
    public int Seed { get; init; } = 42;
    public bool Redact { get; init; } = true;
    public bool Deduplicate { get; init; } = true;
    public double NearDuplicateThreshold { get; init; } = 0.8;
    /// <summary>Largest record read (a JSONL line, a CSV row, a transcript conversation); larger ones are rejected while reading.</summary>
    public int MaxRecordBytes { get; init; } = 1 << 20;
    /// <summary>Target size of a passage cut from a domain document.</summary>
    public int PassageChars { get; init; } = 2000;
    /// <summary>FAQ table columns by header name or 1-based index; null finds them by common names.</summary>
    public string? QuestionColumn { get; init; }
    public string? AnswerColumn { get; init; }
    /// <summary>Transcript speaker label (without the colon, case-insensitive) to chat role.</summary>
    public IReadOnlyDictionary<string, string> SpeakerLabels { get; init; } = DefaultSpeakerLabels;

    public static readonly IReadOnlyDictionary<string, string> DefaultSpeakerLabels = new SortedDictionary<string, string>(StringComparer.Ordinal)
    {
        ["agent"] = "assistant", ["assistant"] = "assistant", ["bot"] = "assistant", ["support"] = "assistant",
        ["customer"] = "user", ["user"] = "user", ["system"] = "system",
    };

    /// <summary>Throws UserInputException naming the first option out of range.</summary>
    public PrepareOptions Validate()
    {
        if (MaxTokens < 8) throw new UserInputException($"--max-tokens must be at least 8 (got {MaxTokens})");
        if (ValidationFraction is < 0 or >= 1 || double.IsNaN(ValidationFraction))
            throw new UserInputException($"--val-fraction must be in [0, 1) (got {ValidationFraction})");
        if (NearDuplicateThreshold is <= 0 or > 1 || double.IsNaN(NearDuplicateThreshold))
            throw new UserInputException($"--near-dup-threshold must be in (0, 1] (got {NearDuplicateThreshold})");
        if (MaxRecordBytes < 1024) throw new UserInputException($"--max-record-bytes must be at least 1024 (got {MaxRecordBytes})");
        if (PassageChars < 100) throw new UserInputException($"--passage-chars must be at least 100 (got {PassageChars})");
        foreach (var (label, role) in SpeakerLabels)
            if (role is not ("system" or "user" or "assistant") || string.IsNullOrWhiteSpace(label) || label.Contains(':'))
                throw new UserInputException($"speaker label '{label}={role}': use Label=user|assistant|system");
        return this;
    }
}
