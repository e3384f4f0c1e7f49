using System.Text;
using System.Text.Json;
using Microsoft.ML.Tokenizers;

namespace ServerlessTune.Core.Tokenization;

/// <summary>The tokenizer.json normalizers byte-level BPE models use: none, or NFC (Qwen2).</summary>
internal static class HfNormalizers
{
    public static Normalizer? Create(JsonElement spec, string path)
    {
        if (spec.ValueKind == JsonValueKind.Null)
            return null;
        var type = spec.ValueKind == JsonValueKind.Object && spec.TryGetProperty("type", out var t) ? t.GetString() : null;
        if (type == "NFC")
            return NfcNormalizer.Instance;
        if (type == "Sequence" && spec.TryGetProperty("normalizers", out var list) && list.ValueKind == JsonValueKind.Array
            && list.GetArrayLength() == 0)
            return null;
        throw new UserInputException($"{path}: normalizer type '{type}' is not supported (null, NFC)");
    }

    private sealed class NfcNormalizer : Normalizer
    {
        public static readonly NfcNormalizer Instance = new();
        public override string Normalize(string original) => original.Normalize(NormalizationForm.FormC);
        public override string Normalize(ReadOnlySpan<char> original) => original.ToString().Normalize(NormalizationForm.FormC);
    }
}
