using ServerlessTune.Core.Chat;

namespace ServerlessTune.Core.Data;

/// <summary>Chat records train on the assistant turns; passages (cut from domain documents) train on all their text.</summary>
public enum RecordKind { Chat, Passage }

public sealed record Conversation(IReadOnlyList<ChatMessage> Messages, RecordKind Kind = RecordKind.Chat);

public sealed record Rejection(string Reason, string Message);

/// <summary>Either a conversation or the reason it was rejected.</summary>
public readonly record struct ParseOutcome(Conversation? Conversation, Rejection? Rejection)
{
    public static implicit operator ParseOutcome(Conversation conversation) => new(conversation, null);
    public static implicit operator ParseOutcome(Rejection rejection) => new(null, rejection);
}

/// <summary>
/// One input record as a source read it. Sources only find record boundaries (cheap, sequential);
/// <see cref="Parse"/> does the expensive decoding and validation on a worker thread.
/// </summary>
public abstract class RawRecord(long line)
{
    /// <summary>1-based line where the record starts (the row number for Parquet).</summary>
    public long Line { get; } = line;
    public abstract ParseOutcome Parse();
}

public sealed class ReadyRecord(long line, ParseOutcome outcome) : RawRecord(line)
{
    public override ParseOutcome Parse() => outcome;
}
