namespace ServerlessTune.Core.Generation;

/// <summary>
/// Turns a growing list of token ids into text one token at a time. A byte-level BPE token can end in
/// the middle of a UTF-8 character; the tokenizer then decodes the incomplete tail as U+FFFD, so text
/// ending in U+FFFD is held back until a later token completes it (or the sequence ends).
/// Each step decodes only a short window (the last complete token(s) plus the new ones) and keeps the
/// difference, the way Text Generation Inference does, so the cost per token stays constant and
/// tokenizers that drop a leading space at the start of a decode (SentencePiece) stay consistent.
/// </summary>
public sealed class IncrementalDecoder(Func<IEnumerable<int>, string> decode)
{
    readonly List<int> ids = [];
    readonly System.Text.StringBuilder text = new();
    int prefixStart;
    int readStart;

    /// <summary>The text of every token so far, except a trailing incomplete character.</summary>
    public string Text => text.ToString();

    public int TextLength => text.Length;

    public IReadOnlyList<int> Ids => ids;

    /// <summary>Adds a token; returns the text it completed (empty while a character is incomplete).</summary>
    public string Push(int id)
    {
        ids.Add(id);
        var delta = NewText(final: false);
        if (delta.Length == 0) return "";
        prefixStart = readStart;
        readStart = ids.Count;
        text.Append(delta);
        return delta;
    }

    /// <summary>Ends the sequence: whatever is still held back (an invalid byte sequence) is returned as is.</summary>
    public string Flush()
    {
        var delta = NewText(final: true);
        prefixStart = readStart = ids.Count;
        text.Append(delta);
        return delta;
    }

    string NewText(bool final)
    {
        if (readStart == ids.Count) return "";
        var prefix = decode(ids[prefixStart..readStart]);
        var full = decode(ids[prefixStart..]);
        if (full.Length <= prefix.Length || (!final && full[^1] == '\uFFFD')) return "";
        return full[prefix.Length..];
    }
}
