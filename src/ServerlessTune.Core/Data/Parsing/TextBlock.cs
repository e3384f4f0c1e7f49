using System.Text;

namespace ServerlessTune.Core.Data.Parsing;

/// <summary>A run of text lines read as one record (a transcript conversation, a document passage), decoded on a worker.</summary>
public abstract class TextBlock(IReadOnlyList<TextLine> lines) : RawRecord(lines[0].Number)
{
    public sealed override ParseOutcome Parse()
    {
        var text = new string[lines.Count];
        for (int i = 0; i < lines.Count; i++)
        {
            var bytes = lines[i].Bytes!;
            if (TextChecks.Reject(bytes, lines[i].Number) is { } rejection) return rejection;
            text[i] = Encoding.UTF8.GetString(bytes);
        }
        return Interpret(text);
    }

    protected long LineNumber(int index) => lines[index].Number;

    protected abstract ParseOutcome Interpret(string[] text);

    internal static bool IsBlank(TextLine line) => line.Bytes!.AsSpan().IndexOfAnyExcept(" \t"u8) < 0;

    /// <summary>Sum of line lengths plus the line breaks joining them.</summary>
    internal static long Size(IReadOnlyList<TextLine> lines) => lines.Sum(l => l.Length) + Math.Max(0, lines.Count - 1);
}
