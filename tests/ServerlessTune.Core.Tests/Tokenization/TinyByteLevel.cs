using System.Text;
using System.Text.Json;
using ServerlessTune.Core.Tokenization;

namespace ServerlessTune.Core.Tests.Tokenization;

/// <summary>
/// A small byte-level BPE tokenizer.json: the 256 byte symbols (ids 0..255 in byte order), a few merges, and
/// three added tokens. The pre_tokenizer and normalizer are the families' own JSON, passed in by the tests.
/// </summary>
internal static class TinyByteLevel
{
    public static readonly string[][] Merges =
    [
        ["h", "e"], ["l", "l"], ["he", "ll"], ["hell", "o"], ["Ġ", "w"], ["o", "r"], ["Ġw", "or"], ["Ġwor", "l"], ["Ġworl", "d"],
        ["Ġ", "1"], ["1", "2"], ["12", "3"], ["123", "4"],
    ];

    public static readonly string[] AddedTokens = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];

    /// <summary>In the vocabulary, but no merge builds it: only ignore_merges finds it.</summary>
    public const string WholeOnly = "xyz";
    public static readonly int WholeOnlyId = 256 + Merges.Length + AddedTokens.Length;

    public const string Gpt2PreTokenizer = """{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}""";
    public const string SmolLmPreTokenizer = """{"type": "Sequence", "pretokenizers": [{"type": "Digits", "individual_digits": true}, {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}]}""";
    // Llama 3's and Qwen2's files spell the split this way (Qwen2 with \p{N} single digits).
    public const string Llama3PreTokenizer = """{"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}, "behavior": "Isolated", "invert": false}, {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false}]}""";

    public static int Id(string token)
    {
        var bytes = Enumerable.Range(0, 256).Select(b => ByteLevelAlphabet.Encode([(byte)b])).ToList();
        var index = bytes.IndexOf(token);
        return index >= 0 ? index : 256 + Array.FindIndex(Merges, m => m[0] + m[1] == token);
    }

    public static int AddedId(string token) => 256 + Merges.Length + Array.IndexOf(AddedTokens, token);

    public static Dictionary<string, int> Vocab()
    {
        var vocab = new Dictionary<string, int>();
        for (var b = 0; b < 256; b++)
            vocab[ByteLevelAlphabet.Encode([(byte)b])] = b;
        foreach (var merge in Merges)
            vocab[merge[0] + merge[1]] = vocab.Count;
        vocab[WholeOnly] = WholeOnlyId;
        return vocab;
    }

    /// <summary>The same model as GPT-2 shipped it: vocab.json (with &lt;|endoftext|&gt;) and merges.txt.</summary>
    public static string WriteVocabAndMerges(TempDir dir)
    {
        var vocab = Vocab();
        vocab["<|endoftext|>"] = AddedId("<|endoftext|>");
        File.WriteAllText(Path.Combine(dir.Path, "vocab.json"), JsonSerializer.Serialize(vocab));
        File.WriteAllLines(Path.Combine(dir.Path, "merges.txt"), ["#version: 0.2", .. Merges.Select(m => $"{m[0]} {m[1]}")]);
        File.WriteAllText(Path.Combine(dir.Path, "tokenizer_config.json"), """{"eos_token": "<|endoftext|>"}""");
        return dir.Path;
    }

    public static string Write(TempDir dir, string preTokenizer, string normalizer = "null", bool pairMerges = false, bool ignoreMerges = false)
    {
        var vocab = Vocab();
        var merges = pairMerges
            ? JsonSerializer.Serialize(Merges)
            : JsonSerializer.Serialize(Merges.Select(m => $"{m[0]} {m[1]}"));
        var added = string.Join(", ", AddedTokens.Select(t =>
            $$"""{"id": {{AddedId(t)}}, "content": {{JsonSerializer.Serialize(t)}}, "special": true, "normalized": false}"""));
        var json = new StringBuilder()
            .Append($$"""{"version": "1.0", "added_tokens": [{{added}}], "normalizer": {{normalizer}}, "pre_tokenizer": {{preTokenizer}},""")
            .Append($$"""  "decoder": {"type": "ByteLevel"}, "model": {"type": "BPE", "ignore_merges": {{(ignoreMerges ? "true" : "false")}}, "vocab": """)
            .Append(JsonSerializer.Serialize(vocab)).Append(", \"merges\": ").Append(merges).Append("}}");
        File.WriteAllText(Path.Combine(dir.Path, "tokenizer.json"), json.ToString());
        return dir.Path;
    }
}
