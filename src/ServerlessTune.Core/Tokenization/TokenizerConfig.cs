using System.Globalization;
using System.Text.Json;

namespace ServerlessTune.Core.Tokenization;

/// <summary>The parts of Transformers' tokenizer_config.json that tokenizing and chat templates need.</summary>
public sealed record TokenizerConfig(
    string? BosToken,
    string? EosToken,
    string? PadToken,
    string? ChatTemplate,
    IReadOnlyDictionary<string, int> AddedTokens,
    string? SourcePath = null,
    bool? Legacy = null)
{
    public static readonly TokenizerConfig Empty = new(null, null, null, null, new Dictionary<string, int>());

    /// <summary>Reads DIR/tokenizer_config.json; a folder without one gets <see cref="Empty"/>.</summary>
    public static TokenizerConfig Load(string directory)
    {
        var path = Path.Combine(directory, TokenizerFiles.TokenizerConfigJson);
        if (!File.Exists(path))
            return Empty;
        using var document = JsonFiles.Parse(path);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
            throw new UserInputException($"{path}: expected a JSON object");
        return new TokenizerConfig(
            TokenText(root, "bos_token", path),
            TokenText(root, "eos_token", path),
            TokenText(root, "pad_token", path),
            ChatTemplateText(root, path),
            AddedTokensDecoder(root, path),
            path,
            root.TryGetProperty("legacy", out var legacy) && legacy.ValueKind is JsonValueKind.True or JsonValueKind.False
                ? legacy.GetBoolean()
                : null);
    }

    // Special tokens are written either as "</s>" or as {"content": "</s>", "lstrip": false, ...}.
    private static string? TokenText(JsonElement root, string key, string path)
    {
        if (!root.TryGetProperty(key, out var value) || value.ValueKind == JsonValueKind.Null)
            return null;
        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Object when value.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String
                => content.GetString(),
            _ => throw new UserInputException($"{path}: {key} must be a string or an object with \"content\""),
        };
    }

    // Newer files hold a list of named templates; the unnamed chat format is the one called "default".
    private static string? ChatTemplateText(JsonElement root, string path)
    {
        if (!root.TryGetProperty("chat_template", out var value) || value.ValueKind == JsonValueKind.Null)
            return null;
        if (value.ValueKind == JsonValueKind.String)
            return value.GetString();
        if (value.ValueKind == JsonValueKind.Array)
        {
            foreach (var entry in value.EnumerateArray())
            {
                if (entry.ValueKind == JsonValueKind.Object
                    && entry.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String && name.GetString() == "default"
                    && entry.TryGetProperty("template", out var template) && template.ValueKind == JsonValueKind.String)
                    return template.GetString();
            }
            throw new UserInputException($"{path}: chat_template list has no entry named \"default\"");
        }
        throw new UserInputException($"{path}: chat_template must be a string or a list of {{name, template}}");
    }

    private static Dictionary<string, int> AddedTokensDecoder(JsonElement root, string path)
    {
        var tokens = new Dictionary<string, int>(StringComparer.Ordinal);
        if (!root.TryGetProperty("added_tokens_decoder", out var decoder) || decoder.ValueKind == JsonValueKind.Null)
            return tokens;
        if (decoder.ValueKind != JsonValueKind.Object)
            throw new UserInputException($"{path}: added_tokens_decoder must be an object");
        foreach (var entry in decoder.EnumerateObject())
        {
            if (!int.TryParse(entry.Name, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                throw new UserInputException($"{path}: added_tokens_decoder key '{entry.Name}' is not a token id");
            if (entry.Value.ValueKind != JsonValueKind.Object
                || !entry.Value.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.String)
                throw new UserInputException($"{path}: added_tokens_decoder.{entry.Name} has no string \"content\"");
            tokens[content.GetString()!] = id;
        }
        return tokens;
    }
}
