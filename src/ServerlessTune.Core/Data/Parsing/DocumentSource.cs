using System.Runtime.CompilerServices;
using ServerlessTune.Core.Chat;

namespace ServerlessTune.Core.Data.Parsing;

/// <summary>
/// Domain documents (.txt, .md) cut into passages of about <see cref="PrepareOptions.PassageChars"/> at
/// paragraph breaks, never at a blank line inside a fenced code block; a paragraph longer than a passage
/// is cut at line breaks, but never inside a PEM block (-----BEGIN ... -----END), so a pasted key stays whole in one
/// record where redaction finds it. Passages become language-model records (<see cref="RecordKind.Passage"/>). With
/// <see cref="DocumentMode.Qa"/>, a heading that asks a question ("## How do I return the router?") and the section
/// under it become a question-answer pair instead; the rest of the document stays passages.
/// </summary>
public sealed class DocumentSource(PrepareOptions options) : IRecordSource
{
    public async IAsyncEnumerable<RawRecord> ReadAsync(Stream input, [EnumeratorCancellation] CancellationToken ct)
    {
        var reader = new LineReader(input, options.MaxRecordBytes);
        var passage = new List<TextLine>();
        List<TextLine>? section = null; // a question heading and the lines under it
        long size = 0;
        int lastBreak = 0; // index just after the passage's last paragraph break, 0 if none
        bool inFence = false, inPem = false;
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            if (line.TooLarge)
            {
                if (section is not null) yield return new QuestionSection(section);
                else if (HasText(passage)) yield return new Passage(passage);
                passage = []; size = 0; lastBreak = 0; section = null;
                yield return JsonLinesSource.TooLarge(line.Number, line.Length, options.MaxRecordBytes);
                continue;
            }
            if (IsFence(line.Bytes!)) inFence = !inFence;
            if (line.Bytes!.AsSpan().IndexOf("-----END "u8) >= 0) inPem = false;
            else if (line.Bytes!.AsSpan().IndexOf("-----BEGIN "u8) >= 0) inPem = true;
            if (options.Documents == DocumentMode.Qa && !inFence && Heading(line.Bytes!) is { } heading)
            {
                if (section is not null) yield return new QuestionSection(section);
                else if (HasText(passage)) yield return new Passage(passage);
                passage = []; size = 0; lastBreak = 0; section = null;
                if (heading.EndsWith('?')) { section = [line]; continue; }
            }
            if (section is not null)
            {
                section.Add(line);
                if (TextBlock.Size(section) > options.MaxRecordBytes)
                {
                    yield return JsonLinesSource.TooLarge(section[0].Number, TextBlock.Size(section), options.MaxRecordBytes);
                    section = null;
                }
                continue;
            }
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
            if (size > 0 && size + line.Length > options.PassageChars && !inPem)
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
        if (section is not null) yield return new QuestionSection(section);
        else if (HasText(passage)) yield return new Passage(passage);
    }

    static bool IsFence(ReadOnlySpan<byte> line)
    {
        var trimmed = line.TrimStart(" "u8);
        return trimmed.StartsWith("```"u8) || trimmed.StartsWith("~~~"u8);
    }

    /// <summary>The text of a Markdown ATX heading ("## Title"), or null for any other line.</summary>
    static string? Heading(ReadOnlySpan<byte> line)
    {
        int hashes = line.IndexOfAnyExcept((byte)'#');
        if (hashes is < 1 or > 6 || line[hashes] != ' ') return null;
        return System.Text.Encoding.UTF8.GetString(line[hashes..]).Trim().TrimEnd('#').Trim();
    }

    static bool HasText(List<TextLine> lines) => lines.Exists(l => !TextBlock.IsBlank(l));

    sealed class Passage(IReadOnlyList<TextLine> lines) : TextBlock(lines)
    {
        protected override ParseOutcome Interpret(string[] text) =>
            new Conversation([new ChatMessage(ChatMessage.Assistant, string.Join('\n', text))], RecordKind.Passage);
    }

    sealed class QuestionSection(IReadOnlyList<TextLine> lines) : TextBlock(lines)
    {
        protected override ParseOutcome Interpret(string[] text)
        {
            string question = Heading(System.Text.Encoding.UTF8.GetBytes(text[0]))!;
            string answer = string.Join('\n', text[1..]);
            if (string.IsNullOrWhiteSpace(answer))
                return new Rejection(RejectReason.EmptyContent, $"the question heading '{question}' has no text under it");
            return new Conversation([new ChatMessage(ChatMessage.User, question), new ChatMessage(ChatMessage.Assistant, answer)]);
        }
    }
}
