using System.Globalization;
using System.IO.Compression;
using System.Reflection;
using Microsoft.ML.Tokenizers;

namespace ServerlessTune.Core.Tokenization;

/// <summary>
/// The tiktoken encodings shipped in the Microsoft.ML.Tokenizers.Data.* packages, by the names users type.
/// Each gets ChatML's &lt;|im_start|&gt; and &lt;|im_end|&gt; right after its highest id, so a built-in spec
/// can render chat templates and the tokenizer.json written for it has the very same ids.
/// </summary>
internal sealed class BuiltInEncoding
{
    // Pre-tokenizer patterns as in tiktoken's openai_public.py, spelled without possessive quantifiers the
    // way Hugging Face tokenizer.json files spell them (Llama 3 for cl100k), so .NET and the Rust
    // tokenizers library read the same pattern. Equality with the package's own regexes is tested.
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";
    public const string Cl100kPattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    public const string O200kPattern =
        @"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?" +
        @"|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?" +
        @"|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    public const string EndOfText = "<|endoftext|>";
    public const string ImStart = "<|im_start|>";
    public const string ImEnd = "<|im_end|>";

    public static readonly IReadOnlyList<string> Names = ["gpt2", "cl100k", "o200k"];

    private static readonly Dictionary<string, Lazy<BuiltInEncoding>> Cache = new(StringComparer.OrdinalIgnoreCase)
    {
        ["gpt2"] = new(() => new BuiltInEncoding("gpt2", "r50k_base", "R50kBase", Gpt2Pattern, 1024)),
        ["cl100k"] = new(() => new BuiltInEncoding("cl100k", "cl100k_base", "Cl100kBase", Cl100kPattern, 8192)),
        ["o200k"] = new(() => new BuiltInEncoding("o200k", "o200k_base", "O200kBase", O200kPattern, 128000)),
    };

    private readonly byte[] _tiktokenFile;
    private readonly Lazy<TextTokenizer> _tokenizer;

    private BuiltInEncoding(string name, string encodingName, string dataPackage, string pattern, int contextLength)
    {
        Name = name;
        Pattern = pattern;
        ContextLength = contextLength;
        _tiktokenFile = ReadDataPackage(dataPackage, encodingName);
        Ranks = ParseRanks(_tiktokenFile, encodingName);
        var specials = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var (token, id) in TiktokenTokenizer.CreateForEncoding(encodingName).SpecialTokens ?? new Dictionary<string, int>())
            specials[token] = id;
        var next = Math.Max(specials.Values.Max(), Ranks.Count - 1) + 1;
        specials[ImStart] = next;
        specials[ImEnd] = next + 1;
        SpecialTokens = specials;
        VocabSize = next + 2;
        _tokenizer = new Lazy<TextTokenizer>(CreateTextTokenizer);
    }

    public static bool TryGet(string spec, out BuiltInEncoding encoding)
    {
        encoding = null!;
        if (!Cache.TryGetValue(spec, out var lazy))
            return false;
        encoding = lazy.Value;
        return true;
    }

    public string Name { get; }
    public string Pattern { get; }
    /// <summary>Context length of the models that introduced the encoding (GPT-2, GPT-4, GPT-4o).</summary>
    public int ContextLength { get; }
    /// <summary>Mergeable tokens as raw bytes, indexed by rank (= id).</summary>
    public IReadOnlyList<byte[]> Ranks { get; }
    public IReadOnlyDictionary<string, int> SpecialTokens { get; }
    /// <summary>Highest id + 1: the embedding rows a model needs (cl100k has unused ids between its specials).</summary>
    public int VocabSize { get; }

    /// <summary>
    /// One shared instance per encoding: the package's tokenizers are safe to use from many threads, though
    /// they take turns on the word cache's lock (<see cref="CreateTextTokenizer"/> for a thread of one's own).
    /// </summary>
    public TextTokenizer Tokenizer => _tokenizer.Value;

    public TextTokenizer CreateTextTokenizer()
    {
        var eos = SpecialTokens[EndOfText];
        // Parsing the encoding takes 0.1-0.2 CPU s and 12 MB an instance; a preparation worker never needs the special one.
        return new TextTokenizer(Name, CreateTokenizer(null), new Lazy<Tokenizer>(() => CreateTokenizer(SpecialTokens)), SpecialTokens, VocabSize,
            new SpecialTokenIds(Bos: null, Eos: eos, Pad: eos))
        {
            Boundary = NewlineBoundary.For([Pattern], normalizes: false),
        };
    }

    private TiktokenTokenizer CreateTokenizer(IReadOnlyDictionary<string, int>? specialTokens)
    {
        using var stream = new MemoryStream(_tiktokenFile, writable: false);
        return TiktokenTokenizer.Create(stream, HfPreTokenizers.FromPattern(Pattern, specialTokens), normalizer: null, specialTokens);
    }

    private static byte[] ReadDataPackage(string dataPackage, string encodingName)
    {
        var assembly = Assembly.Load($"Microsoft.ML.Tokenizers.Data.{dataPackage}");
        using var resource = assembly.GetManifestResourceStream($"{encodingName}.tiktoken.deflate")
            ?? throw new InvalidOperationException($"Microsoft.ML.Tokenizers.Data.{dataPackage} has no {encodingName} data");
        using var inflated = new DeflateStream(resource, CompressionMode.Decompress);
        using var buffer = new MemoryStream();
        inflated.CopyTo(buffer);
        return buffer.ToArray();
    }

    // The packages hold tiktoken files ("base64(token bytes) rank" per line) with the rank left out when it
    // is the line's index, after a "Capacity: N" header.
    private static List<byte[]> ParseRanks(byte[] file, string encodingName)
    {
        var ranks = new List<byte[]>();
        using var reader = new StreamReader(new MemoryStream(file));
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0 || line.StartsWith("Capacity:", StringComparison.Ordinal))
                continue;
            var space = line.IndexOf(' ');
            if (space >= 0 && int.Parse(line.AsSpan(space + 1), CultureInfo.InvariantCulture) != ranks.Count)
                throw new InvalidOperationException($"{encodingName}: ranks are not dense at line {ranks.Count + 1}");
            ranks.Add(Convert.FromBase64String(space >= 0 ? line[..space] : line));
        }
        return ranks;
    }
}
