using System.Buffers;
using System.Text;

namespace ServerlessTune.Core.Tokenization;

/// <summary>
/// A conversation laid out as the pieces a chat format prints: markers (special ids when the tokenizer has
/// them as special tokens, else trusted text) and text. Consecutive text of the same kind is encoded in one
/// call so tokens merge across template text and content as they do in Transformers.
/// </summary>
internal sealed class ChatTurns(ITextTokenizer tokenizer)
{
    private readonly List<(string Text, bool IsMarker, bool Trained)> _pieces = [];

    /// <summary>An empty token (a tokenizer without BOS, say) prints nothing.</summary>
    public ChatTurns Marker(string token, bool trained = false)
    {
        if (token.Length > 0)
            _pieces.Add((token, true, trained));
        return this;
    }

    public ChatTurns Text(string text, bool trained = false)
    {
        if (text.Length > 0)
            _pieces.Add((text, false, trained));
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
    /// records). A run of several pieces is counted from one reused buffer, not joined into a new string.
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
        if (segment.Pieces == 1)
        {
            var text = _pieces[segment.First].Text;
            return segment.Continues ? ((IContinuationEncoder)tokenizer).CountContinuation(text) : tokenizer.CountTokens(text);
        }
        var length = 0;
        for (var i = segment.First; i < segment.First + segment.Pieces; i++)
            length += _pieces[i].Text.Length;
        var buffer = ArrayPool<char>.Shared.Rent(length);
        try
        {
            var written = 0;
            for (var i = segment.First; i < segment.First + segment.Pieces; i++)
            {
                _pieces[i].Text.CopyTo(buffer.AsSpan(written));
                written += _pieces[i].Text.Length;
            }
            var joined = buffer.AsSpan(0, length);
            return segment.Continues ? ((IContinuationEncoder)tokenizer).CountContinuation(joined) : tokenizer.CountTokens(joined);
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
            var (text, isMarker, trained) = _pieces[i];
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
