using System.Runtime.CompilerServices;
using ServerlessTune.Core.Chat;

namespace ServerlessTune.Core.Data.Parsing;

/// <summary>
/// Domain documents (.txt, .md) cut into passages of about <see cref="PrepareOptions.PassageChars"/> at
/// paragraph breaks, never at a blank line inside a fenced code block; a paragraph longer than a passage
/// is cut at line breaks. Passages become language-model records (<see cref="RecordKind.Passage"/>).
/// </summary>
public sealed class DocumentSource(PrepareOptions options) : IRecordSource
{
    public async IAsyncEnumerable<RawRecord> ReadAsync(Stream input, [EnumeratorCancellation] CancellationToken ct)
    {
        var reader = new LineReader(input, options.MaxRecordBytes);
        var passage = new List<TextLine>();
        long size = 0;
        int lastBreak = 0; // index just after the passage's last paragraph break, 0 if none
        bool inFence = false;
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            if (line.TooLarge)
            {
                if (HasText(passage)) yield return new Passage(passage);
                passage = []; size = 0; lastBreak = 0;
                yield return JsonLinesSource.TooLarge(line.Number, line.Length, options.MaxRecordBytes);
                continue;
            }
            if (IsFence(line.Bytes!)) inFence = !inFence;
            if (!inFence && TextBlock.IsBlank(line))
            {
                if (passage.Count == 0) continue;
                if (size >= options.PassageChars)
                {
                    yield return new Passage(passage);
                    passage = []; size = 0; lastBreak = 0;
                    continue;
                }
                passage.Add(line);
                lastBreak = passage.Count;
                continue;
            }
            if (size > 0 && size + line.Length > options.PassageChars)
            {
                // Cut at the last paragraph break if there is one, else at this line break.
                int cut = lastBreak > 0 ? lastBreak : passage.Count;
                yield return new Passage(passage[..cut]);
                passage = passage[cut..];
                size = TextBlock.Size(passage);
                lastBreak = 0;
            }
            passage.Add(line);
            size += line.Length + 1;
        }
        if (HasText(passage)) yield return new Passage(passage);
    }

    static bool IsFence(ReadOnlySpan<byte> line)
    {
        var trimmed = line.TrimStart(" "u8);
        return trimmed.StartsWith("```"u8) || trimmed.StartsWith("~~~"u8);
    }

    static bool HasText(List<TextLine> lines) => lines.Exists(l => !TextBlock.IsBlank(l));

    sealed class Passage(IReadOnlyList<TextLine> lines) : TextBlock(lines)
    {
        protected override ParseOutcome Interpret(string[] text) =>
            new Conversation([new ChatMessage(ChatMessage.Assistant, string.Join('\n', text))], RecordKind.Passage);
    }
}
