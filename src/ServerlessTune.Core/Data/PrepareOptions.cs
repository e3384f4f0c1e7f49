using System.Collections.Frozen;

namespace ServerlessTune.Core.Data;

/// <summary>How an input file is read. Auto detects by content first, then by extension.</summary>
public enum InputFormat { Auto, Jsonl, Json, Csv, Tsv, Transcript, Document, Parquet }

/// <summary>What happens to a record longer than <see cref="PrepareOptions.MaxTokens"/>.</summary>
public enum OverLimitPolicy { Drop, Truncate }

/// <summary>What happens to a record holding a secret: the secret is replaced by its placeholder, or the record is rejected. Never kept.</summary>
public enum SecretPolicy { Redact, Reject }

/// <summary>What happens to a record whose answer holds a template placeholder ({{Order Number}}, &lt;ORDER_ID&gt;, [NAME]).</summary>
public enum PlaceholderPolicy { Keep, Drop }

/// <summary>How documents are trained: passages as plain text, or question headings with their sections as question-answer pairs.</summary>
public enum DocumentMode { Text, Qa }

/// <summary>
/// Which columns (CSV/TSV headers, JSON keys) hold each side of a pair, by name or 1-based index; null finds them by
/// their common names. Input is appended to the user side (Alpaca's "input", Dolly's "context").
/// </summary>
public sealed record ColumnChoice
{
    public string? User { get; init; }
    public string? Input { get; init; }
    public string? Assistant { get; init; }
    public string? System { get; init; }

    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsEmpty => User is null && Input is null && Assistant is null && System is null;
}

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
    /// <summary>Column or key overrides for tables and key-value records (pipeline.json prepare.columns).</summary>
    public ColumnChoice Columns { get; init; } = new();
    /// <summary>
    /// Role names beyond <see cref="DefaultRoles"/> (or overriding them), case-insensitive: message roles and ShareGPT
    /// "from" values in JSON, and speaker labels in transcripts (pipeline.json prepare.roles).
    /// </summary>
    public IReadOnlyDictionary<string, string> Roles { get; init; } = new SortedDictionary<string, string>(StringComparer.Ordinal);
    public SecretPolicy Secrets { get; init; } = SecretPolicy.Redact;
    public PlaceholderPolicy Placeholders { get; init; } = PlaceholderPolicy.Keep;
    public DocumentMode Documents { get; init; } = DocumentMode.Text;

    /// <summary>OpenAI's role names, ShareGPT's human/gpt, and the speaker labels of support transcripts.</summary>
    public static readonly IReadOnlyDictionary<string, string> DefaultRoles = new Dictionary<string, string>
    {
        ["agent"] = "assistant", ["assistant"] = "assistant", ["bot"] = "assistant", ["chatgpt"] = "assistant", ["gpt"] = "assistant", ["support"] = "assistant",
        ["customer"] = "user", ["human"] = "user", ["user"] = "user", ["system"] = "system",
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    /// <summary>The defaults with <see cref="Roles"/> laid over them, looked up without case (built anew: callers keep it).</summary>
    public IReadOnlyDictionary<string, string> RoleNames()
    {
        var names = new Dictionary<string, string>(DefaultRoles, StringComparer.OrdinalIgnoreCase);
        foreach (var (name, role) in Roles) names[name.Trim()] = role;
        return names.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
    }

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
        foreach (var (name, role) in Roles)
            if (role is not ("system" or "user" or "assistant") || string.IsNullOrWhiteSpace(name) || name.Contains(':'))
                throw new UserInputException($"roles: '{name}={role}': use name=user|assistant|system");
        foreach (var (key, column) in new[] { ("user", Columns.User), ("input", Columns.Input), ("assistant", Columns.Assistant), ("system", Columns.System) })
            if (column is not null && string.IsNullOrWhiteSpace(column))
                throw new UserInputException($"columns.{key}: empty (leave it out to find the column by its name)");
        return this;
    }
}
