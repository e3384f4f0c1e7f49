namespace ServerlessTune.Core.Tokenization;

/// <summary>
/// When a text ending in a newline and the text after it count as many tokens apart as joined: data preparation counts
/// a chat template's role line ("user\n") once per template and the message content on its own, instead of the two
/// joined into a buffer. It holds for a byte-level BPE with no normalizer whose pre-tokenizer is one of the regexes
/// below: BPE merges never cross a pre-token, and those regexes always end a pre-token at such a newline.
/// The package's pre-tokenizer matches each pre-token on the text from where the last one ended, with no look-behind,
/// so once a pre-token ends exactly at the join, the rest is split as the right-hand text alone would be; what has to be
/// shown is that the left text is split alike with or without the right one. Only the match reaching the join could
/// differ, and only through what it reads at the join: the next character.
/// </summary>
internal sealed class NewlineBoundary
{
    private readonly bool _singleNewline;

    private NewlineBoundary(bool singleNewline) => _singleNewline = singleNewline;

    /// <summary>
    /// GPT-2's regex (<see cref="BuiltInEncoding.Gpt2Pattern"/>). Before non-space text, a whitespace run ending in a
    /// newline is split by <c>\s+(?!\S)</c> before its last character, where at the end of the text it is one pre-token;
    /// a lone newline after non-space is a pre-token either way (<c>\s+</c> joined, <c>\s+(?!\S)</c> alone). No other
    /// alternative takes a newline, so the join is a boundary when the newline follows non-space text (or starts the
    /// run counted) and the next text starts with non-space.
    /// </summary>
    private static readonly NewlineBoundary Gpt2 = new(singleNewline: true);

    /// <summary>
    /// cl100k's family (Llama 3, Qwen2, o200k). <c>\s*[\r\n]+</c> ends a whitespace run at its last newline whatever
    /// follows but whitespace, and the newline can end a punctuation pre-token only through <c>[\r\n]*</c> (o200k's
    /// <c>[\r\n/]*</c>), which a next character that is neither whitespace nor '/' stops; the letter alternatives'
    /// optional leading character excludes \r and \n. So the join is a boundary before any non-space but '/'.
    /// </summary>
    private static readonly NewlineBoundary NewlineRun = new(singleNewline: false);

    /// <summary>Qwen2's tokenizer.json split: cl100k's with single digits.</summary>
    private const string Qwen2Pattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>The rule for a tokenizer splitting by <paramref name="patterns"/> (one regex, no normalizer), else null: count joined.</summary>
    public static NewlineBoundary? For(IReadOnlyList<string> patterns, bool normalizes) =>
        normalizes || patterns.Count != 1 ? null
        : patterns[0] == BuiltInEncoding.Gpt2Pattern ? Gpt2
        : patterns[0] is BuiltInEncoding.Cl100kPattern or BuiltInEncoding.O200kPattern or Qwen2Pattern ? NewlineRun
        : null;

    /// <summary>
    /// Whether text ending in '\n' then text starting with <paramref name="next"/> count apart as joined;
    /// <paramref name="beforeNewline"/> is the character before that newline in the text counted, null if none.
    /// </summary>
    public bool Splits(char? beforeNewline, char next) =>
        !char.IsWhiteSpace(next) && (_singleNewline ? beforeNewline is not { } before || !char.IsWhiteSpace(before) : next != '/');
}
