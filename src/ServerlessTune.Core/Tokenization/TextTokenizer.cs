using Microsoft.ML.Tokenizers;

namespace ServerlessTune.Core.Tokenization;

/// <summary>
/// An <see cref="ITextTokenizer"/> over two Microsoft.ML.Tokenizers instances of the same model: one
/// that knows the special tokens (templates, decoding) and one that does not (user text), so no
/// user string can ever be matched against a special token.
/// </summary>
internal sealed class TextTokenizer : ITextTokenizer, IContinuationEncoder
{
    private readonly Tokenizer _plain;
    private readonly Tokenizer _withSpecialTokens;
    private readonly IReadOnlyDictionary<string, int> _specialTokens;
    private readonly Func<string, int[]>? _continuation;

    public TextTokenizer(string name, Tokenizer plain, Tokenizer withSpecialTokens, IReadOnlyDictionary<string, int> specialTokens,
        int vocabSize, SpecialTokenIds ids, Func<string, int[]>? continuation = null)
    {
        Name = name;
        _plain = plain;
        _withSpecialTokens = withSpecialTokens;
        _specialTokens = specialTokens;
        _continuation = continuation;
        VocabSize = vocabSize;
        BosTokenId = ids.Bos;
        EosTokenId = ids.Eos;
        PadTokenId = ids.Pad;
    }

    public string Name { get; }
    public int VocabSize { get; }
    public int? BosTokenId { get; }
    public int? EosTokenId { get; }
    public int? PadTokenId { get; }

    public int[] EncodePlain(string text) => [.. _plain.EncodeToIds(text)];

    public int[] EncodeWithSpecialTokens(string text) => [.. _withSpecialTokens.EncodeToIds(text)];

    public int[] EncodeContinuation(string text) => _continuation?.Invoke(text) ?? EncodePlain(text);

    public int CountTokens(string text) => _plain.CountTokens(text);

    public string Decode(IEnumerable<int> ids) => _withSpecialTokens.Decode(ids);

    public bool TryGetSpecialTokenId(string token, out int id) => _specialTokens.TryGetValue(token, out id);

    /// <summary>The text of a special token id (SentencePiece's Decode leaves control tokens out).</summary>
    public string? SpecialTokenText(int id) => _specialTokens.FirstOrDefault(pair => pair.Value == id).Key;
}

internal readonly record struct SpecialTokenIds(int? Bos, int? Eos, int? Pad);
