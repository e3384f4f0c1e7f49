using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace ServerlessTune.Core.Tokenization;

/// <summary>
/// Builds the Microsoft.ML.Tokenizers pre-tokenizer that splits text the way a tokenizer.json's
/// "pre_tokenizer" does: GPT-2's ByteLevel regex, a Split pattern (Llama 3, Qwen2), Digits (SmolLM),
/// or a Sequence of these.
/// </summary>
internal static class HfPreTokenizers
{
    /// <summary>The regexes a tokenizer.json's pre_tokenizer splits by, in order (validated: at least one).</summary>
    public static IReadOnlyList<string> Patterns(JsonElement spec, string path)
    {
        var patterns = new List<string>();
        Collect(spec, path, "pre_tokenizer", patterns);
        if (patterns.Count == 0)
            throw new UserInputException($"{path}: pre_tokenizer does not split words (no regex and no ByteLevel use_regex)");
        return patterns;
    }

    public static PreTokenizer Create(IReadOnlyList<string> patterns, IReadOnlyDictionary<string, int>? specialTokens)
    {
        if (patterns.Count == 1)
            return FromPattern(patterns[0], specialTokens);
        return new PerThreadPreTokenizer(() =>
            new CompositePreTokenizer([.. patterns.Select(p => new RegexPreTokenizer(Compile(p), null))], specialTokens));
    }

    /// <summary>GPT-2's split, which vocab.json + merges.txt models (GPT-2, GPT-J) use.</summary>
    public static PreTokenizer Gpt2(IReadOnlyDictionary<string, int>? specialTokens) => FromPattern(BuiltInEncoding.Gpt2Pattern, specialTokens);

    public static PreTokenizer FromPattern(string pattern, IReadOnlyDictionary<string, int>? specialTokens) =>
        new PerThreadPreTokenizer(() => new RegexPreTokenizer(Compile(pattern), specialTokens));

    public static bool IsByteLevel(JsonElement spec) =>
        spec.ValueKind == JsonValueKind.Object && Type(spec) switch
        {
            "ByteLevel" => true,
            "Sequence" => spec.TryGetProperty("pretokenizers", out var list) && list.ValueKind == JsonValueKind.Array
                && list.EnumerateArray().Any(IsByteLevel),
            _ => false,
        };

    private static void Collect(JsonElement spec, string path, string key, List<string> patterns)
    {
        if (spec.ValueKind != JsonValueKind.Object)
            throw new UserInputException($"{path}: {key} must be an object");
        switch (Type(spec))
        {
            case "ByteLevel":
                if (Flag(spec, "add_prefix_space", false))
                    throw new UserInputException($"{path}: {key}.add_prefix_space = true is not supported");
                if (Flag(spec, "use_regex", true))
                    patterns.Add(BuiltInEncoding.Gpt2Pattern);
                break;
            case "Split":
                patterns.Add(SplitPattern(spec, path, key));
                break;
            case "Digits":
                patterns.Add(Flag(spec, "individual_digits", false) ? @"\p{N}|\P{N}+" : @"\p{N}+|\P{N}+");
                break;
            case "Sequence":
                if (!spec.TryGetProperty("pretokenizers", out var list) || list.ValueKind != JsonValueKind.Array)
                    throw new UserInputException($"{path}: {key}.pretokenizers must be an array");
                var index = 0;
                foreach (var item in list.EnumerateArray())
                    Collect(item, path, $"{key}.pretokenizers[{index++}]", patterns);
                break;
            case var other:
                throw new UserInputException($"{path}: {key}.type '{other}' is not supported (ByteLevel, Split, Digits, Sequence)");
        }
    }

    private static string SplitPattern(JsonElement spec, string path, string key)
    {
        if (Flag(spec, "invert", false))
            throw new UserInputException($"{path}: {key}.invert = true is not supported");
        var behavior = spec.TryGetProperty("behavior", out var b) ? b.GetString() : null;
        if (behavior != "Isolated")
            throw new UserInputException($"{path}: {key}.behavior '{behavior}' is not supported (Isolated)");
        if (!spec.TryGetProperty("pattern", out var pattern) || pattern.ValueKind != JsonValueKind.Object)
            throw new UserInputException($"{path}: {key}.pattern must be {{\"Regex\": ...}} or {{\"String\": ...}}");
        if (pattern.TryGetProperty("Regex", out var regex) && regex.ValueKind == JsonValueKind.String)
        {
            try
            {
                // Parsed here so a bad pattern fails at load, naming the file, not on a worker's first use.
                var text = regex.GetString()!;
                _ = new Regex(text, RegexOptions.CultureInvariant);
                return text;
            }
            catch (ArgumentException ex)
            {
                throw new UserInputException($"{path}: {key}.pattern.Regex is not a valid regular expression ({ex.Message})", ex);
            }
        }
        if (pattern.TryGetProperty("String", out var literal) && literal.ValueKind == JsonValueKind.String)
            return Regex.Escape(literal.GetString()!);
        throw new UserInputException($"{path}: {key}.pattern must be {{\"Regex\": ...}} or {{\"String\": ...}}");
    }

    private static Regex Compile(string pattern) => new(pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant);

    private static string? Type(JsonElement spec) =>
        spec.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String ? type.GetString() : null;

    private static bool Flag(JsonElement spec, string name, bool fallback) =>
        spec.TryGetProperty(name, out var value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? value.GetBoolean()
            : fallback;
}
