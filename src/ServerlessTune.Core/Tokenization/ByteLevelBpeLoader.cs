using System.Text;
using System.Text.Json;
using Microsoft.ML.Tokenizers;

namespace ServerlessTune.Core.Tokenization;

/// <summary>
/// Byte-level BPE (GPT-2, GPT-J, Qwen2, SmolLM, Llama 3) from tokenizer.json or from vocab.json + merges.txt,
/// run by Microsoft.ML.Tokenizers' <see cref="BpeTokenizer"/>.
/// </summary>
internal static class ByteLevelBpeLoader
{
    /// <summary>True when tokenizer.json describes byte-level BPE (else it is a SentencePiece-style file).</summary>
    public static bool IsByteLevel(string tokenizerJsonPath)
    {
        using var document = JsonFiles.Parse(tokenizerJsonPath);
        return IsByteLevel(document.RootElement);
    }

    private static bool IsByteLevel(JsonElement root) =>
        root.ValueKind == JsonValueKind.Object
        && ((root.TryGetProperty("pre_tokenizer", out var pre) && HfPreTokenizers.IsByteLevel(pre))
            || (root.TryGetProperty("decoder", out var decoder) && HfPreTokenizers.IsByteLevel(decoder)));

    public static TextTokenizer LoadTokenizerJson(string path, TokenizerConfig config)
    {
        using var document = JsonFiles.Parse(path);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
            throw new UserInputException($"{path}: expected a JSON object");
        if (!IsByteLevel(root))
            throw new UserInputException(
                $"{path}: not byte-level BPE (no ByteLevel pre_tokenizer or decoder); SentencePiece models need their tokenizer.model");
        var model = Required(root, "model", JsonValueKind.Object, path);
        var type = model.TryGetProperty("type", out var t) ? t.GetString() : "BPE";
        if (type != "BPE")
            throw new UserInputException($"{path}: model.type '{type}' is not supported (BPE)");
        foreach (var key in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
            if (model.TryGetProperty(key, out var affix) && affix.ValueKind == JsonValueKind.String && affix.GetString()!.Length > 0)
                throw new UserInputException($"{path}: model.{key} is not supported for byte-level BPE");
        var vocab = ReadVocab(Required(model, "vocab", JsonValueKind.Object, path), path, "model.vocab");
        var merges = ReadMerges(Required(model, "merges", JsonValueKind.Array, path), path);
        var added = ReadAddedTokens(root, path);
        foreach (var (token, id) in config.AddedTokens)
            added.TryAdd(token, id);
        var patterns = HfPreTokenizers.Patterns(Required(root, "pre_tokenizer", JsonValueKind.Object, path), path);
        var normalizer = root.TryGetProperty("normalizer", out var n) ? HfNormalizers.Create(n, path) : null;
        var ignoreMerges = model.TryGetProperty("ignore_merges", out var ignore) && ignore.ValueKind == JsonValueKind.True;
        return Build(path, vocab, merges, added, config, specials => HfPreTokenizers.Create(patterns, specials), normalizer,
            ignoreMerges, NewlineBoundary.For(patterns, normalizer is not null));
    }

    public static TextTokenizer LoadVocabAndMerges(string vocabPath, string mergesPath, TokenizerConfig config)
    {
        using var document = JsonFiles.Parse(vocabPath);
        if (document.RootElement.ValueKind != JsonValueKind.Object)
            throw new UserInputException($"{vocabPath}: expected a JSON object of token -> id");
        var vocab = ReadVocab(document.RootElement, vocabPath, "vocab");
        var merges = ReadMergesTxt(mergesPath);
        var added = new Dictionary<string, int>(config.AddedTokens, StringComparer.Ordinal);
        // Older folders (GPT-J's <|extratoken_N|>) list added tokens in added_tokens.json.
        var addedTokensJson = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(vocabPath))!, "added_tokens.json");
        if (File.Exists(addedTokensJson))
        {
            using var addedDocument = JsonFiles.Parse(addedTokensJson);
            if (addedDocument.RootElement.ValueKind != JsonValueKind.Object)
                throw new UserInputException($"{addedTokensJson}: expected a JSON object of token -> id");
            foreach (var (token, id) in ReadVocab(addedDocument.RootElement, addedTokensJson, "added token"))
                added.TryAdd(token, id);
        }
        // GPT-2's <|endoftext|> lives in vocab.json only; it is special all the same.
        foreach (var token in new[] { config.BosToken, config.EosToken, config.PadToken, BuiltInEncoding.EndOfText })
            if (token is not null && vocab.TryGetValue(token, out var id))
                added.TryAdd(token, id);
        return Build(mergesPath, vocab, merges, added, config, HfPreTokenizers.Gpt2, normalizer: null, ignoreMerges: false,
            NewlineBoundary.For([BuiltInEncoding.Gpt2Pattern], normalizes: false));
    }

    private static TextTokenizer Build(string source, Dictionary<string, int> vocab, List<string> merges,
        Dictionary<string, int> added, TokenizerConfig config, Func<IReadOnlyDictionary<string, int>?, PreTokenizer> preTokenizer,
        Normalizer? normalizer, bool ignoreMerges, NewlineBoundary? boundary)
    {
        BpeTokenizer Create(IReadOnlyDictionary<string, int>? specials)
        {
            try
            {
                return BpeTokenizer.Create(new BpeOptions(vocab)
                {
                    Merges = merges,
                    ByteLevel = true,
                    PreTokenizer = preTokenizer(specials),
                    Normalizer = normalizer,
                    SpecialTokens = specials,
                });
            }
            catch (InvalidOperationException ex)
            {
                // e.g. a merge whose result is not in the vocabulary
                throw new UserInputException($"{source}: {ex.Message}", ex);
            }
        }
        // Building an instance takes about a second for a 100k-merge vocabulary: build the two side by side.
        var withSpecialTokens = Task.Run(() => Create(added));
        var plain = Create(null);
        var special = withSpecialTokens.GetAwaiter().GetResult();
        // Byte-level BPE can spell any text only if every byte has its symbol; a missing one would drop characters.
        for (var b = 0; b < 256; b++)
            if (!vocab.ContainsKey(ByteLevelAlphabet.Encode([(byte)b])))
                throw new UserInputException($"{source}: the vocabulary has no symbol for byte 0x{b:X2} ('{ByteLevelAlphabet.Encode([(byte)b])}'), which byte-level BPE needs");
        var vocabSize = Math.Max(vocab.Values.Max(), added.Values.DefaultIfEmpty(-1).Max()) + 1;
        var ids = SpecialTokenResolver.Resolve(config, added, vocab);
        var name = Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(source))) ?? source;
        if (!ignoreMerges)
            return new TextTokenizer(name, plain, new Lazy<Tokenizer>(special), added, vocabSize, ids) { Boundary = boundary };
        // Taking a pre-token whole is still one pre-token at a time, so the boundary rule holds.
        return new TextTokenizer(name, plain, new Lazy<Tokenizer>(special), added, vocabSize, ids)
        {
            Boundary = boundary,
            PlainEncoder = new WholeTokenFirst(plain, vocab, specialTokens: null).Encode,
            SpecialEncoder = new WholeTokenFirst(special, vocab, added).Encode,
        };
    }

    private static JsonElement Required(JsonElement parent, string key, JsonValueKind kind, string path)
    {
        if (!parent.TryGetProperty(key, out var value) || value.ValueKind != kind)
            throw new UserInputException($"{path}: {key} is missing or not a JSON {kind.ToString().ToLowerInvariant()}");
        return value;
    }

    private static Dictionary<string, int> ReadVocab(JsonElement vocab, string path, string key)
    {
        var result = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in vocab.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out var id) || id < 0)
                throw new UserInputException($"{path}: {key}[\"{entry.Name}\"] is not a token id");
            result[entry.Name] = id;
        }
        if (result.Count == 0)
            throw new UserInputException($"{path}: {key} is empty");
        return result;
    }

    // Merges are "a b" strings (tokenizers < 0.20) or ["a", "b"] pairs (later versions).
    private static List<string> ReadMerges(JsonElement merges, string path)
    {
        var result = new List<string>(merges.GetArrayLength());
        var index = 0;
        foreach (var merge in merges.EnumerateArray())
        {
            if (merge.ValueKind == JsonValueKind.String && merge.GetString()!.Split(' ').Length == 2)
                result.Add(merge.GetString()!);
            else if (merge.ValueKind == JsonValueKind.Array && merge.GetArrayLength() == 2
                && merge[0].ValueKind == JsonValueKind.String && merge[1].ValueKind == JsonValueKind.String)
            {
                var (left, right) = (merge[0].GetString()!, merge[1].GetString()!);
                // The package reads merges as "left right"; byte-level tokens spell spaces as 'Ġ'.
                if (left.Contains(' ') || right.Contains(' '))
                    throw new UserInputException($"{path}: model.merges[{index}] has a token with a space, which byte-level BPE cannot hold");
                result.Add($"{left} {right}");
            }
            else
                throw new UserInputException($"{path}: model.merges[{index}] is neither \"a b\" nor [\"a\", \"b\"]");
            index++;
        }
        return result;
    }

    private static List<string> ReadMergesTxt(string path)
    {
        if (!File.Exists(path))
            throw new UserInputException($"{path}: file not found");
        var result = new List<string>();
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path, Encoding.UTF8))
        {
            lineNumber++;
            if (line.Length == 0 || (lineNumber == 1 && line.StartsWith("#version", StringComparison.Ordinal)))
                continue;
            if (line.Split(' ').Length != 2)
                throw new UserInputException($"{path}:{lineNumber}: expected two tokens separated by one space");
            result.Add(line);
        }
        return result;
    }

    private static Dictionary<string, int> ReadAddedTokens(JsonElement root, string path)
    {
        var added = new Dictionary<string, int>(StringComparer.Ordinal);
        if (!root.TryGetProperty("added_tokens", out var list) || list.ValueKind == JsonValueKind.Null)
            return added;
        if (list.ValueKind != JsonValueKind.Array)
            throw new UserInputException($"{path}: added_tokens must be an array");
        var index = 0;
        foreach (var token in list.EnumerateArray())
        {
            if (token.ValueKind != JsonValueKind.Object
                || !token.TryGetProperty("id", out var id) || !id.TryGetInt32(out var value)
                || !token.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.String)
                throw new UserInputException($"{path}: added_tokens[{index}] needs an integer \"id\" and a string \"content\"");
            added[content.GetString()!] = value;
            index++;
        }
        return added;
    }
}
