using System.Text.Json;
using System.Text.Json.Nodes;
using ServerlessTune.Core.Modeling;

namespace ServerlessTune.Core.Generation;

/// <summary>
/// A model folder's generation_config.json: extra end tokens and the sampling defaults its authors chose.
/// Like vLLM, the sampling keys are read whatever do_sample says; a request that sets a value wins.
/// </summary>
public sealed record GenerationConfig
{
    public const string FileName = "generation_config.json";

    public static readonly GenerationConfig Empty = new();

    public int[] EosTokenIds { get; init; } = [];
    public double? Temperature { get; init; }
    public double? TopP { get; init; }
    public int? TopK { get; init; }
    public double? RepetitionPenalty { get; init; }
    public int? MaxNewTokens { get; init; }

    /// <summary>Reads the folder's file; a folder without one has no defaults. Errors name the file and key.</summary>
    public static GenerationConfig Load(string modelDirectory)
    {
        var file = Path.Combine(modelDirectory, FileName);
        if (!File.Exists(file)) return Empty;
        JsonObject json;
        try
        {
            json = JsonNode.Parse(File.ReadAllText(file)) as JsonObject ?? throw new UserInputException($"{file}: expected a JSON object");
        }
        catch (JsonException ex)
        {
            throw new UserInputException($"{file}: line {ex.LineNumber + 1}: not valid JSON: {ex.Message}", ex);
        }
        var keys = new ConfigKeys(json, file);
        double? Number(string key) => json[key] is null ? null : keys.Double(key, 0);
        return new GenerationConfig
        {
            EosTokenIds = keys.TokenIds("eos_token_id"),
            Temperature = Number("temperature"),
            TopP = Number("top_p"),
            TopK = keys.OptionalInt("top_k"),
            RepetitionPenalty = Number("repetition_penalty"),
            MaxNewTokens = keys.OptionalPositiveInt("max_new_tokens"),
        };
    }
}
