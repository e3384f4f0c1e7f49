using System.Text.Json;
using ServerlessTune.Core.Chat;

namespace ServerlessTune.Core.Training;

/// <summary>
/// One record from a prepared JSONL file, with its 1-based line for error messages: a conversation, or a passage of a
/// document ("kind": "passage", its text in one message) trained as plain text.
/// </summary>
public sealed record ChatRecord(string Source, int Line, IReadOnlyList<ChatMessage> Messages, bool IsPassage = false);

/// <summary>
/// Reads prepared/{runId}/train.jsonl or validation.jsonl (OpenAI chat format,
/// {"messages":[{"role","content","weight"?}]}). Data prep already rejected bad records, so a bad line
/// here means the file was edited or truncated: it fails the run with the file, line and reason.
/// Blank lines are skipped (a trailing newline is normal).
/// </summary>
public static class PreparedChatFile
{
    static readonly HashSet<string> Roles = [ChatMessage.System, ChatMessage.User, ChatMessage.Assistant];

    public static IReadOnlyList<ChatRecord> Read(string path) => [.. ReadLines(path)];

    /// <summary>The records one at a time, for files too large to hold (a training set read to find evaluation cases in it).</summary>
    public static IEnumerable<ChatRecord> ReadLines(string path)
    {
        if (!File.Exists(path)) throw new UserInputException($"{path}: prepared data file not found");
        return Lines(path);

        static IEnumerable<ChatRecord> Lines(string path)
        {
            int line = 0;
            foreach (var text in File.ReadLines(path))
            {
                line++;
                if (string.IsNullOrWhiteSpace(text)) continue;
                yield return ParseLine(text, path, line);
            }
        }
    }

    static ChatRecord ParseLine(string text, string path, int line)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(text); }
        catch (JsonException ex) { throw Bad(path, line, $"not valid JSON ({ex.Message.Split(". ")[0]})"); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object
                || !doc.RootElement.TryGetProperty("messages", out var messages)
                || messages.ValueKind != JsonValueKind.Array)
                throw Bad(path, line, "expected an object with a \"messages\" array");
            var result = new List<ChatMessage>();
            int index = 0;
            foreach (var m in messages.EnumerateArray())
            {
                result.Add(ParseMessage(m, path, line, index));
                index++;
            }
            if (!result.Any(m => m.Role == ChatMessage.Assistant))
                throw Bad(path, line, "no assistant message, so nothing to learn from");
            bool passage = doc.RootElement.TryGetProperty("kind", out var kind) && kind.ValueKind == JsonValueKind.String && kind.GetString() == "passage";
            if (passage && result.Count != 1)
                throw Bad(path, line, "a passage holds its text in one message");
            return new ChatRecord(path, line, result, passage);
        }
    }

    static ChatMessage ParseMessage(JsonElement m, string path, int line, int index)
    {
        string where = $"messages[{index}]";
        if (m.ValueKind != JsonValueKind.Object) throw Bad(path, line, $"{where} is not an object");
        if (!m.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String || !Roles.Contains(role.GetString()!))
            throw Bad(path, line, $"{where}.role must be one of system, user, assistant");
        if (!m.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.String)
            throw Bad(path, line, $"{where}.content must be a string");
        int? weight = null;
        if (m.TryGetProperty("weight", out var w) && w.ValueKind != JsonValueKind.Null)
        {
            if (w.ValueKind != JsonValueKind.Number || !w.TryGetInt32(out int value) || value is not (0 or 1))
                throw Bad(path, line, $"{where}.weight must be 0 or 1");
            weight = value;
        }
        return new ChatMessage(role.GetString()!, content.GetString()!, weight);
    }

    static UserInputException Bad(string path, int line, string reason) => new($"{path}:{line}: {reason}");
}
