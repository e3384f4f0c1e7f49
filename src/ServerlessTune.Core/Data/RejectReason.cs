namespace ServerlessTune.Core.Data;

/// <summary>The stable reason codes written to rejects.jsonl and counted in stats.json. Never rename one.</summary>
public static class RejectReason
{
    public const string InvalidJson = "invalid_json";
    public const string InvalidUtf8 = "invalid_utf8";
    public const string NotAnObject = "not_an_object";
    public const string MissingMessages = "missing_messages";
    public const string MessageNotAnObject = "message_not_an_object";
    public const string MessageMissingRole = "message_missing_role";
    public const string MessageMissingContent = "message_missing_content";
    public const string ContentNotAString = "content_not_a_string";
    public const string UnrecognizedRole = "unrecognized_role";
    public const string UnrecognizedKey = "unrecognized_key";
    public const string InvalidWeight = "invalid_weight";
    public const string NoAssistantMessage = "no_assistant_message";
    public const string EmptyContent = "empty_content";
    public const string RecordTooLarge = "record_too_large";
    public const string MissingColumn = "missing_column";
    public const string UnterminatedQuote = "unterminated_quote";
    public const string MissingSpeakerLabel = "missing_speaker_label";
    public const string UnrecognizedFormat = "unrecognized_format";
    public const string InvalidParquet = "invalid_parquet";
    public const string TooManyTokens = "too_many_tokens";
    public const string NulByte = "nul_byte";
    public const string DuplicateKey = "duplicate_key";
    /// <summary>A symbolic link that leaves the input folder, dangles, or loops: never followed.</summary>
    public const string UnsafeLink = "unsafe_link";
    /// <summary>A record holding a secret, with prepare.secrets set to reject.</summary>
    public const string Secret = "secret";
    /// <summary>Not a reject but filtered: an answer with a template placeholder, with prepare.placeholders set to drop.</summary>
    public const string TemplatePlaceholder = "template_placeholder";
    /// <summary>Not rejects but listed with them, so every record that is not kept has a line saying why.</summary>
    public const string Duplicate = "duplicate";
    public const string NearDuplicate = "near_duplicate";
}
