using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using ServerlessTune.Core.Chat;

namespace ServerlessTune.Core.Data.Parsing;

/// <summary>
/// Chat logs as plain text: "Customer: ..." / "Agent: ..." lines (labels configurable, an optional
/// "[10:32]" timestamp before the label), unlabelled lines continuing the previous turn. Conversations are
/// separated by separator lines (---, ===, ***) when the file has any, else by blank lines.
/// </summary>
public sealed partial class TranscriptSource(PrepareOptions options, bool separatorMode) : IRecordSource
{
    readonly IReadOnlyDictionary<string, string> _roles = options.RoleNames();

    [GeneratedRegex(@"^\s*(-{3,}|={3,}|\*{3,}|_{3,}|#{3,})\s*$")]
    private static partial Regex SeparatorLine();

    [GeneratedRegex(@"^\s*(?:\[[^\]]{1,40}\]\s*)?([\p{L}][\p{L} ]{0,30}?)\s*:[ \t]?(.*)$")]
    private static partial Regex LabelledLine();

    public static bool IsSeparator(string line) => SeparatorLine().IsMatch(line);

    /// <summary>The role a line's speaker label maps to, and the text after the label.</summary>
    public static bool TryLabel(string line, IReadOnlyDictionary<string, string> labels, out string role, out string text)
    {
        var match = LabelledLine().Match(line);
        role = text = "";
        if (!match.Success) return false;
        string label = match.Groups[1].Value.Trim().ToLowerInvariant();
        if (!labels.TryGetValue(label, out var mapped)) return false;
        role = mapped;
        text = match.Groups[2].Value;
        return true;
    }

    public async IAsyncEnumerable<RawRecord> ReadAsync(Stream input, [EnumeratorCancellation] CancellationToken ct)
    {
        var reader = new LineReader(input, options.MaxRecordBytes);
        var block = new List<TextLine>();
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            if (line.TooLarge)
            {
                // The oversized line spoils its conversation: reject it whole, from where it started.
                yield return JsonLinesSource.TooLarge(block.Count > 0 ? block[0].Number : line.Number, line.Length, options.MaxRecordBytes);
                block = [];
                await SkipToBoundaryAsync(reader, ct);
                continue;
            }
            if (IsBoundary(line))
            {
                if (HasText(block)) yield return new TranscriptBlock(block, _roles);
                block = [];
                continue;
            }
            block.Add(line);
            if (TextBlock.Size(block) > options.MaxRecordBytes)
            {
                yield return JsonLinesSource.TooLarge(block[0].Number, TextBlock.Size(block), options.MaxRecordBytes);
                block = [];
                await SkipToBoundaryAsync(reader, ct);
            }
        }
        if (HasText(block)) yield return new TranscriptBlock(block, _roles);
    }

    async ValueTask SkipToBoundaryAsync(LineReader reader, CancellationToken ct)
    {
        while (await reader.ReadLineAsync(ct) is { } line)
            if (!line.TooLarge && IsBoundary(line)) return;
    }

    bool IsBoundary(TextLine line) => separatorMode
        ? line.Length < 200 && IsSeparator(System.Text.Encoding.UTF8.GetString(line.Bytes!))
        : TextBlock.IsBlank(line);

    static bool HasText(List<TextLine> block) => block.Exists(l => !TextBlock.IsBlank(l));
}

public sealed class TranscriptBlock(IReadOnlyList<TextLine> lines, IReadOnlyDictionary<string, string> labels) : TextBlock(lines)
{
    protected override ParseOutcome Interpret(string[] text)
    {
        var messages = new List<(string Role, System.Text.StringBuilder Text)>();
        for (int i = 0; i < text.Length; i++)
        {
            if (TranscriptSource.TryLabel(text[i], labels, out string role, out string content))
            {
                if (messages.Count > 0 && messages[^1].Role == role) messages[^1].Text.Append('\n').Append(content);
                else messages.Add((role, new System.Text.StringBuilder(content)));
            }
            else if (messages.Count > 0) messages[^1].Text.Append('\n').Append(text[i]);
            else if (!string.IsNullOrWhiteSpace(text[i]))
                return new Rejection(RejectReason.MissingSpeakerLabel, $"line {LineNumber(i)} has no speaker label ({string.Join(", ", labels.Keys)})");
        }
        if (!messages.Exists(m => m.Role == ChatMessage.Assistant))
            return new Rejection(RejectReason.NoAssistantMessage, "no assistant turn (agent/bot/assistant label)");
        return new Conversation(messages.Select(m => new ChatMessage(m.Role, m.Text.ToString())).ToList());
    }
}
