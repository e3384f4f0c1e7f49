using Microsoft.ML.Tokenizers;

namespace ServerlessTune.Core.Tokenization;

/// <summary>
/// A pre-tokenizer with one instance per thread. A <see cref="System.Text.RegularExpressions.Regex"/> keeps
/// a single cached matcher; threads matching on one instance at once each build a fresh matcher per call,
/// which on this 2-core machine made two tokenizing threads allocate twenty times the memory of one and run
/// no faster. Shared tokenizers (data preparation workers, concurrent chat requests) need them apart.
/// </summary>
internal sealed class PerThreadPreTokenizer(Func<PreTokenizer> create) : PreTokenizer
{
    private readonly ThreadLocal<PreTokenizer> _local = new(create);

    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text) => _local.Value!.PreTokenize(text);

    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text) => _local.Value!.PreTokenize(text);
}
