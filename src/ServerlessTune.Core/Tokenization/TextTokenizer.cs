using Microsoft.ML.Tokenizers;

namespace ServerlessTune.Core.Tokenization;

/// <summary>
/// An <see cref="ITextTokenizer"/> over two Microsoft.ML.Tokenizers instances of the same model: one
/// that knows the special tokens (templates, decoding) and one that does not (user text), so no
/// user string can ever be matched against a special token.
/// </summary>
internal sealed class TextTokenizer : ITextTokenizer, IContinuationEncoder
{
    private readonly Lazy<Tokenizer> _withSpecialTokens;
    private readonly IReadOnlyDictionary<string, int> _specialTokens;

    /// <param name="withSpecialTokens">Built on first use where building costs (data preparation's workers only count plain text).</param>
    public TextTokenizer(string name, Tokenizer plain, Lazy<Tokenizer> withSpecialTokens, IReadOnlyDictionary<string, int> specialTokens,
        int vocabSize, SpecialTokenIds ids)
    {
        Name = name;
        _withSpecialTokens = withSpecialTokens;
        _specialTokens = specialTokens;
        VocabSize = vocabSize;
        BosTokenId = ids.Bos;
        EosTokenId = ids.Eos;
        PadTokenId = ids.Pad;
        _plainEncoder = text => [.. plain.EncodeToIds(text)];
        _plainCounter = text => plain.CountTokens(text);
        _plainSpanCounter = text => plain.CountTokens(text);
        SpecialEncoder = text => [.. withSpecialTokens.Value.EncodeToIds(text)];
    }

    public string Name { get; }
    public int VocabSize { get; }
    public int? BosTokenId { get; }
    public int? EosTokenId { get; }
    public int? PadTokenId { get; }

    private readonly Func<string, int[]> _plainEncoder;
    // The package counts without building the id list; a replaced encoder is counted by encoding.
    private readonly Func<string, int> _plainCounter;
    private readonly SpanCounter _plainSpanCounter;

    private delegate int SpanCounter(ReadOnlySpan<char> text);

    /// <summary>Replaces the package's encoding where the model asks for more (tokenizer.json's ignore_merges).</summary>
    public Func<string, int[]> PlainEncoder
    {
        init
        {
            _plainEncoder = value;
            _plainCounter = text => value(text).Length;
            _plainSpanCounter = text => value(text.ToString()).Length;
        }
    }

    public Func<string, int[]> SpecialEncoder { private get; init; }

    /// <summary>Encoding of text that continues a line; plain encoding unless the model prefixes sentences.</summary>
    public Func<string, int[]>? Continuation { private get; init; }

    public bool Legacy { get; init; } = true;

    /// <summary>Where counts of texts joined after a newline add up (<see cref="NewlineBoundary"/>); null: count them joined.</summary>
    public NewlineBoundary? Boundary { get; init; }

    public int[] EncodePlain(string text) => _plainEncoder(text);

    public int[] EncodeWithSpecialTokens(string text) => SpecialEncoder(text);

    public int[] EncodeContinuation(string text) => Continuation?.Invoke(text) ?? EncodePlain(text);

    public int CountTokens(string text) => _plainCounter(text);

    public int CountTokens(ReadOnlySpan<char> text) => _plainSpanCounter(text);

    public int CountContinuation(string text) => Continuation is { } continuation ? continuation(text).Length : CountTokens(text);

    public int CountContinuation(ReadOnlySpan<char> text) => Continuation is { } continuation ? continuation(text.ToString()).Length : CountTokens(text);

    public string Decode(IEnumerable<int> ids) => _withSpecialTokens.Value.Decode(ids);

    public bool TryGetSpecialTokenId(string token, out int id) => _specialTokens.TryGetValue(token, out id);

    /// <summary>The text of a special token id (SentencePiece's Decode leaves control tokens out).</summary>
    public string? SpecialTokenText(int id) => _specialTokens.FirstOrDefault(pair => pair.Value == id).Key;
}

internal readonly record struct SpecialTokenIds(int? Bos, int? Eos, int? Pad);
