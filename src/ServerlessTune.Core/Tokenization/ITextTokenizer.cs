namespace ServerlessTune.Core.Tokenization;

/// <summary>
/// A model's tokenizer. User text always goes through <see cref="EncodePlain"/>: a user typing
/// "&lt;|im_end|&gt;" gets the ids of those characters, never the special token's id.
/// </summary>
public interface ITextTokenizer
{
    string Name { get; }
    /// <summary>Highest id + 1, added tokens included: the embedding rows a model needs.</summary>
    int VocabSize { get; }
    int[] EncodePlain(string text);
    /// <summary>Splits out special and added tokens first. Only for trusted text such as template markers.</summary>
    int[] EncodeWithSpecialTokens(string text);
    string Decode(IEnumerable<int> ids);
    int? BosTokenId { get; }
    int? EosTokenId { get; }
    int? PadTokenId { get; }
    bool TryGetSpecialTokenId(string token, out int id);
    int CountTokens(string text);
    /// <summary>The same count for text that is not a string of its own (a chat template's pieces joined in a reused buffer).</summary>
    int CountTokens(ReadOnlySpan<char> text);
}
