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
            if (segment.Text is null)
            {
                ids.Add(segment.SpecialId);
                mask.Add(segment.Trained);
                continue;
            }
            var encoded = segment.Continues ? ((IContinuationEncoder)tokenizer).EncodeContinuation(segment.Text) : tokenizer.EncodePlain(segment.Text);
            ids.AddRange(encoded);
            for (var i = 0; i < encoded.Length; i++)
                mask.Add(segment.Trained);
        }
        return new ChatEncoding([.. ids], [.. mask]);
    }

    /// <summary>What <see cref="Encode"/> would return, counted without building the ids (data preparation sizes millions of records).</summary>
    public ChatTokenCount Count()
    {
        int tokens = 0, trained = 0;
        foreach (var segment in Segments())
        {
            var count = segment.Text is null ? 1
                : segment.Continues ? ((IContinuationEncoder)tokenizer).CountContinuation(segment.Text) : tokenizer.CountTokens(segment.Text);
            tokens += count;
            if (segment.Trained)
                trained += count;
        }
        return new ChatTokenCount(tokens, trained);
    }

    /// <summary>A special id (Text null), or text to encode as one call, plainly or as the continuation of a line.</summary>
    private readonly record struct Segment(string? Text, int SpecialId, bool Trained, bool Continues);

    private IEnumerable<Segment> Segments()
    {
        // The run's pieces, joined once when it ends: most runs are one piece (a message's content), which
        // then costs no copy at all; data preparation sizes millions of records through here.
        var run = new List<string>();
        var runTrained = false;
        var afterSpecial = true;
        var anyBefore = false;

        Segment? Flush()
        {
            if (run.Count == 0)
                return null;
            var startsSentence = !anyBefore || (afterSpecial && tokenizer is not IContinuationEncoder { Legacy: false });
            var segment = new Segment(run.Count == 1 ? run[0] : string.Concat(run), 0, runTrained, !startsSentence && tokenizer is IContinuationEncoder);
            run.Clear();
            afterSpecial = false;
            anyBefore = true;
            return segment;
        }

        foreach (var (text, isMarker, trained) in _pieces)
        {
            if (isMarker && tokenizer.TryGetSpecialTokenId(text, out var id))
            {
                if (Flush() is { } before)
                    yield return before;
                yield return new Segment(null, id, trained, false);
                afterSpecial = true;
                anyBefore = true;
                continue;
            }
            if (trained != runTrained && Flush() is { } previous)
                yield return previous;
            runTrained = trained;
            run.Add(text);
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

    /// <summary>
    /// Transformers' "legacy" Llama tokenization: text after a special token starts a new sentence (gets the
    /// prefix again). Llama 2 works this way; TinyLlama and Phi-3 set legacy = false.
    /// </summary>
    bool Legacy { get; }
}
