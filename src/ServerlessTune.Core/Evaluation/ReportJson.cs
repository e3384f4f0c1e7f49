using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ServerlessTune.Core.Evaluation;

/// <summary>report.json: the report with snake_case keys; reads back to an equal report.</summary>
public static class ReportJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        WriteIndented = true,
        // A diverged model's perplexity is Infinity or NaN; the report must still be written.
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        // report.json is never embedded in HTML, so non-ASCII text can stay readable.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public static string Serialize(EvaluationReport report) => JsonSerializer.Serialize(report, Options);

    public static EvaluationReport Deserialize(string json, string source)
    {
        try
        {
            return JsonSerializer.Deserialize<EvaluationReport>(json, Options)
                ?? throw new UserInputException($"{source}: the report is null");
        }
        catch (JsonException ex)
        {
            throw new UserInputException($"{source}: not an evaluation report: {ex.Message}", ex);
        }
    }
}
