using System.Text.Json;

namespace ServerlessTune.Core.Tokenization;

internal static class JsonFiles
{
    /// <summary>Parses a JSON file; a missing or malformed file is the user's error, named with its line.</summary>
    public static JsonDocument Parse(string path)
    {
        if (!File.Exists(path))
            throw new UserInputException($"{path}: file not found");
        try
        {
            using var stream = File.OpenRead(path);
            return JsonDocument.Parse(stream, new JsonDocumentOptions { AllowTrailingCommas = true, MaxDepth = 256 });
        }
        catch (JsonException ex)
        {
            var line = ex.LineNumber is { } n ? $":{n + 1}" : "";
            throw new UserInputException($"{path}{line}: malformed JSON ({ex.Message})", ex);
        }
    }
}
