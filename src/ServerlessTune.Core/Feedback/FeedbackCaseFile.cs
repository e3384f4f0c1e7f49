using System.Text.Json;
using ServerlessTune.Core.Common;

namespace ServerlessTune.Core.Feedback;

/// <summary>prepared/{run}/feedback_cases.jsonl: written by PrepareData, read by the evaluation's feedback family. The one reader of the format.</summary>
public static class FeedbackCaseFile
{
    public static string Serialize(IEnumerable<FeedbackCase> cases) =>
        string.Concat(cases.Select(c => JsonSerializer.Serialize(c, LogJson.Options) + "\n"));

    /// <summary>Every case; a line that is not a case is an error naming the file and line.</summary>
    public static IReadOnlyList<FeedbackCase> Load(string path)
    {
        var cases = new List<FeedbackCase>();
        foreach (var record in JsonRecords.ReadLines(path))
        {
            FeedbackCase? value;
            try { value = record.Value.Deserialize<FeedbackCase>(LogJson.Options); }
            catch (JsonException e) { throw new UserInputException($"{record.Where}: not a feedback case: {e.Message}", e); }
            if (value is not { Id.Length: > 0, Messages.Count: > 0 } || value.RejectedAnswer is null)
                throw new UserInputException($"{record.Where}: not a feedback case (id, messages and rejected_answer are required)");
            cases.Add(value);
        }
        return cases;
    }
}
