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
        var run = new StringBuilder();
        var runTrained = false;
        var afterSpecial = true;

        void Flush()
        {
            if (run.Length == 0)
                return;
            var startsSentence = ids.Count == 0 || (afterSpecial && tokenizer is not IContinuationEncoder { Legacy: false });
            var encoded = startsSentence || tokenizer is not IContinuationEncoder continuation
                ? tokenizer.EncodePlain(run.ToString())
                : continuation.EncodeContinuation(run.ToString());
            ids.AddRange(encoded);
            mask.AddRange(Enumerable.Repeat(runTrained, encoded.Length));
            run.Clear();
            afterSpecial = false;
        }

        foreach (var (text, isMarker, trained) in _pieces)
        {
            if (isMarker && tokenizer.TryGetSpecialTokenId(text, out var id))
            {
                Flush();
                ids.Add(id);
                mask.Add(trained);
                afterSpecial = true;
                continue;
            }
            if (trained != runTrained)
                Flush();
            runTrained = trained;
            run.Append(text);
        }
        Flush();
        return new ChatEncoding([.. ids], [.. mask]);
    }
}

/// <summary>
/// Tokenizers whose plain encoding treats the text as the start of a sentence (SentencePiece's dummy "▁" prefix)
/// encode text that continues a line with this instead.
/// </summary>
internal interface IContinuationEncoder
{
    int[] EncodeContinuation(string text);

    /// <summary>
    /// Transformers' "legacy" Llama tokenization: text after a special token starts a new sentence (gets the
    /// prefix again). Llama 2 works this way; TinyLlama and Phi-3 set legacy = false.
    /// </summary>
    bool Legacy { get; }
}
