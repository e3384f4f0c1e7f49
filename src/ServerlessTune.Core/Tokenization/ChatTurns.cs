using System.Buffers;
using System.Collections.Concurrent;
using System.Text;

namespace ServerlessTune.Core.Tokenization;

/// <summary>
/// A conversation laid out as the pieces a chat format prints: markers (special ids when the tokenizer has
/// them as special tokens, else trusted text) and text. Consecutive text of the same kind is encoded in one
/// call so tokens merge across template text and content as they do in Transformers.
/// </summary>
/// <param name="scaffoldCounts">Token counts of the format's own text (role lines, newlines), shared by the format's records.</param>
internal sealed class ChatTurns(ITextTokenizer tokenizer, ConcurrentDictionary<string, int> scaffoldCounts)
{
    private readonly List<(string Text, bool IsMarker, bool Trained, bool IsScaffold)> _pieces = [];

    /// <summary>An empty token (a tokenizer without BOS, say) prints nothing.</summary>
    public ChatTurns Marker(string token, bool trained = false)
    {
        if (token.Length > 0)
            _pieces.Add((token, true, trained, true));
        return this;
    }

    /// <summary>Message content, or text that holds some.</summary>
    public ChatTurns Text(string text, bool trained = false)
    {
        if (text.Length > 0)
            _pieces.Add((text, false, trained, false));
        return this;
    }

    /// <summary>The format's own text, the same in every conversation ("user\n"): counted once per format.</summary>
    public ChatTurns Scaffold(string text, bool trained = false)
    {
        if (text.Length > 0)
            _pieces.Add((text, false, trained, true));
        return this;
    }

    public string Render()
    {
        var text = new StringBuilder();
        foreach (var piece in _pieces)
            text.Append(piece.Text);
        return text.ToString();
    }

    public ChatEncoding Encode()
    {
        var ids = new List<int>();
        var mask = new List<bool>();
        foreach (var segment in Segments())
        {
            if (segment.Pieces == 0)
            {
                ids.Add(segment.SpecialId);
                mask.Add(segment.Trained);
                continue;
            }
            var text = Join(segment);
            var encoded = segment.Continues ? ((IContinuationEncoder)tokenizer).EncodeContinuation(text) : tokenizer.EncodePlain(text);
            ids.AddRange(encoded);
            for (var i = 0; i < encoded.Length; i++)
                mask.Add(segment.Trained);
        }
        return new ChatEncoding([.. ids], [.. mask]);
    }

    /// <summary>
    /// What <see cref="Encode"/> would return, counted without building the ids (data preparation sizes millions of
    /// records). A run of several pieces is counted piece by piece where the tokenizer provably splits between them
    /// (<see cref="NewlineBoundary"/>: the format's text then costs a dictionary look-up), else from one reused buffer,
    /// not joined into a new string.
    /// </summary>
    public ChatTokenCount Count()
    {
        int tokens = 0, trained = 0;
        foreach (var segment in Segments())
        {
            var count = segment.Pieces == 0 ? 1 : Count(segment);
            tokens += count;
            if (segment.Trained)
                trained += count;
        }
        return new ChatTokenCount(tokens, trained);
    }

    private int Count(Segment segment)
    {
        var end = segment.First + segment.Pieces;
        // A continuation (SentencePiece) is counted whole; so is every run of a tokenizer without a boundary rule.
        if (segment.Continues || tokenizer is not TextTokenizer { Boundary: { } boundary })
            return Count(segment.First, end, segment.Continues);
        var count = 0;
        var first = segment.First;
        for (var i = first + 1; i < end; i++)
        {
            if (!SplitsBefore(i, first, boundary))
                continue;
            count += Count(first, i, continues: false);
            first = i;
        }
        return count + Count(first, end, continues: false);
    }

    /// <summary>Whether the tokenizer splits between piece <paramref name="i"/> - 1 and <paramref name="i"/> of a run counted from <paramref name="first"/>.</summary>
    private bool SplitsBefore(int i, int first, NewlineBoundary boundary)
    {
        var left = _pieces[i - 1].Text;
        if (left[^1] != '\n')
            return false;
        char? beforeNewline = left.Length > 1 ? left[^2] : i - 1 > first ? _pieces[i - 2].Text[^1] : null;
        return boundary.Splits(beforeNewline, _pieces[i].Text[0]);
    }

    /// <summary>Pieces first..end - 1 as one text: a piece of the format's own from the shared counts, several from a reused buffer.</summary>
    private int Count(int first, int end, bool continues)
    {
        if (end - first == 1)
        {
            var (text, _, _, isScaffold) = _pieces[first];
            if (continues)
                return ((IContinuationEncoder)tokenizer).CountContinuation(text);
            if (!isScaffold)
                return tokenizer.CountTokens(text);
            if (!scaffoldCounts.TryGetValue(text, out var count))
                scaffoldCounts[text] = count = tokenizer.CountTokens(text);
            return count;
        }
        var length = 0;
        for (var i = first; i < end; i++)
            length += _pieces[i].Text.Length;
        var buffer = ArrayPool<char>.Shared.Rent(length);
        try
        {
            var written = 0;
            for (var i = first; i < end; i++)
            {
                _pieces[i].Text.CopyTo(buffer.AsSpan(written));
                written += _pieces[i].Text.Length;
            }
            var joined = buffer.AsSpan(0, length);
            return continues ? ((IContinuationEncoder)tokenizer).CountContinuation(joined) : tokenizer.CountTokens(joined);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(buffer);
        }
    }

    private string Join(Segment segment) => segment.Pieces == 1
        ? _pieces[segment.First].Text
        : string.Concat(_pieces.Skip(segment.First).Take(segment.Pieces).Select(piece => piece.Text));

    /// <summary>
    /// A special id (no pieces), or pieces First.. of text to encode as one call, plainly or as the continuation of
    /// a line: most runs are one piece (a message's content), which then costs no copy at all.
    /// </summary>
    private readonly record struct Segment(int First, int Pieces, int SpecialId, bool Trained, bool Continues);

    private IEnumerable<Segment> Segments()
    {
        var first = 0;
        var pieces = 0;
        var runTrained = false;
        var afterSpecial = true;
        var anyBefore = false;

        Segment? Flush()
        {
            if (pieces == 0)
                return null;
            var startsSentence = !anyBefore || (afterSpecial && tokenizer is not IContinuationEncoder { Legacy: false });
            var segment = new Segment(first, pieces, 0, runTrained, !startsSentence && tokenizer is IContinuationEncoder);
            pieces = 0;
            afterSpecial = false;
            anyBefore = true;
            return segment;
        }

        for (var i = 0; i < _pieces.Count; i++)
        {
            var (text, isMarker, trained, _) = _pieces[i];
            if (isMarker && tokenizer.TryGetSpecialTokenId(text, out var id))
            {
                if (Flush() is { } before)
                    yield return before;
                yield return new Segment(i, 0, id, trained, false);
                afterSpecial = true;
                anyBefore = true;
                continue;
            }
            if (trained != runTrained && Flush() is { } previous)
                yield return previous;
            runTrained = trained;
            if (pieces == 0)
                first = i;
            pieces++;
        }
        if (Flush() is { } last)
            yield return last;
    }
}

/// <summary>
/// Tokenizers whose plain encoding treats the text as the start of a sentence (SentencePiece's dummy "▁" prefix)
/// encode text that continues a line with this instead.
/// </summary>
internal interface IContinuationEncoder
{
    int[] EncodeContinuation(string text);

    int CountContinuation(string text);

    int CountContinuation(ReadOnlySpan<char> text);

    /// <summary>
    /// Transformers' "legacy" Llama tokenization: text after a special token starts a new sentence (gets the
    /// prefix again). Llama 2 works this way; TinyLlama and Phi-3 set legacy = false.
    /// </summary>
    bool Legacy { get; }
}
