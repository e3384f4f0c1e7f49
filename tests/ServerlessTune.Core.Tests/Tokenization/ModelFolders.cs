using System.Text.Json;
using ServerlessTune.Core.Tokenization;

namespace ServerlessTune.Core.Tests.Tokenization;

/// <summary>Tokenizer folders shaped like the model families', built from GPT-2's ranks or the tiny SentencePiece model.</summary>
internal static class ModelFolders
{
    /// <summary>A built-in encoding's BPE with the family's special tokens added after its last id through tokenizer_config.json.</summary>
    public static string ByteLevel(TempDir dir, string spec, string? chatTemplate, string? bos, string eos, params string[] addedTokens)
    {
        var first = TokenizerFiles.Write(spec, dir.Path).VocabSize;
        var decoder = new Dictionary<string, object>();
        for (var i = 0; i < addedTokens.Length; i++)
            decoder[(first + i).ToString(System.Globalization.CultureInfo.InvariantCulture)] = new { content = addedTokens[i], special = true };
        WriteConfig(dir, new Dictionary<string, object?>
        {
            ["bos_token"] = bos, ["eos_token"] = eos, ["chat_template"] = chatTemplate, ["added_tokens_decoder"] = decoder,
        });
        return dir.Path;
    }

    public static string SentencePiece(TempDir dir, string? chatTemplate, bool legacy)
    {
        TinySentencePiece.Write(Path.Combine(dir.Path, "tokenizer.model"));
        WriteConfig(dir, new Dictionary<string, object?>
        {
            ["bos_token"] = new { content = "<s>", lstrip = false }, ["eos_token"] = "</s>", ["chat_template"] = chatTemplate,
            ["legacy"] = legacy,
        });
        return dir.Path;
    }

    private static void WriteConfig(TempDir dir, Dictionary<string, object?> config) =>
        File.WriteAllText(Path.Combine(dir.Path, "tokenizer_config.json"), JsonSerializer.Serialize(config));
}
