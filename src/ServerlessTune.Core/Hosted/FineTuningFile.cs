using System.Text;
using System.Text.Json;
using ServerlessTune.Core.Chat;
using ServerlessTune.Core.Common;
using ServerlessTune.Core.Data.Output;
using ServerlessTune.Core.Tokenization;
using ServerlessTune.Core.Training;

namespace ServerlessTune.Core.Hosted;

/// <summary>
/// The fine-tuning API's training and validation files: chat JSONL, one {"messages": [{"role", "content",
/// "weight"?}]} per line, weight 0/1 on assistant messages only. <see cref="Write"/> turns a prepared split into
/// one; <see cref="Validate"/> holds a file to the rules the OpenAI and Azure OpenAI fine-tuning guides document
/// (the checks of OpenAI's data preparation notebook, and the size and example limits), so a file the service would
/// reject is refused here, before it is uploaded, with the line of the first bad record.
/// </summary>
public static class FineTuningFile
{
    /// <summary>The least number of training examples the service accepts.</summary>
    public const int MinTrainingExamples = 10;
    /// <summary>The largest file the fine-tuning file upload takes.</summary>
    public const long MaxBytes = 512L * 1024 * 1024;

    static readonly string[] Roles = [ChatMessage.System, ChatMessage.User, ChatMessage.Assistant];
    static readonly string[] MessageKeys = ["role", "content", "name", "weight"];

    /// <summary>A prepared split (prepared/{runId}/train.jsonl or validation.jsonl) as the API's JSONL; returns the examples written.</summary>
    public static int Write(string preparedFile, Stream output)
    {
        var records = PreparedChatFile.Read(preparedFile);
        foreach (var record in records)
            // The API takes a weight on assistant messages only; elsewhere it has no meaning for training either.
            output.Write(RecordJson.Chat(record.Messages.Select(m => m.Role == ChatMessage.Assistant ? m : m with { Weight = null })));
        return records.Count;
    }

    /// <summary>Throws UserInputException naming the first record that breaks a rule; returns the number of examples.</summary>
    /// <param name="file">The file on disk.</param>
    /// <param name="source">What errors name it by (its place in the store).</param>
    /// <param name="minExamples"><see cref="MinTrainingExamples"/> for a training file, 1 for a validation file.</param>
    public static int Validate(string file, string source, HostedBaseModel model, int minExamples)
    {
        long size = new FileInfo(file).Length;
        if (size > MaxBytes)
            throw new UserInputException($"{source}: {size} bytes, more than the {MaxBytes} a fine-tuning file may hold");
        var tokenizer = TokenizerLoader.Load(model.Tokenizer);
        int examples = 0;
        using var reader = new StreamReader(file, new UTF8Encoding(false, throwOnInvalidBytes: true));
        foreach (var record in JsonRecords.ReadLines(reader, source))
        {
            ValidateExample(record, model, tokenizer);
            examples++;
        }
        if (examples < minExamples)
            throw new UserInputException($"{source}: {examples} example(s); the fine-tuning API needs at least {minExamples}");
        return examples;
    }

    static void ValidateExample(LocatedJson record, HostedBaseModel model, ITextTokenizer tokenizer)
    {
        string where = record.Where;
        if (record.Value.ValueKind != JsonValueKind.Object)
            throw new UserInputException($"{where}: an example must be a JSON object, got {JsonFields.Describe(record.Value)}");
        if (!record.Value.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
            throw new UserInputException($"{where}: messages: missing or not a non-empty list");
        foreach (var property in record.Value.EnumerateObject())
            if (property.Name != "messages")
                throw new UserInputException($"{where}: {property.Name}: not a key of a chat fine-tuning example");
        // Counted as OpenAI's notebook counts a chat: 3 tokens of framing per message, its values, 3 to prime the reply.
        int tokens = 3, index = 0;
        bool trainedAssistant = false;
        foreach (var message in messages.EnumerateArray())
        {
            string at = $"{where}: messages[{index++}]";
            if (message.ValueKind != JsonValueKind.Object)
                throw new UserInputException($"{at}: expected an object, got {JsonFields.Describe(message)}");
            foreach (var property in message.EnumerateObject())
                if (!MessageKeys.Contains(property.Name))
                    throw new UserInputException($"{at}: {property.Name}: not a key of a message ({string.Join(", ", MessageKeys)})");
            string role = message.TryGetProperty("role", out var r) && r.ValueKind == JsonValueKind.String
                ? r.GetString()!
                : throw new UserInputException($"{at}: role: missing");
            if (!Roles.Contains(role))
                throw new UserInputException($"{at}: role: '{role}' is not one of {string.Join(", ", Roles)}");
            if (!message.TryGetProperty("content", out var c) || c.ValueKind != JsonValueKind.String || c.GetString()!.Length == 0)
                throw new UserInputException($"{at}: content: missing or empty");
            if (message.TryGetProperty("weight", out var w))
            {
                if (role != ChatMessage.Assistant)
                    throw new UserInputException($"{at}: weight: only assistant messages carry a weight");
                if (w.ValueKind != JsonValueKind.Number || !w.TryGetInt32(out int weight) || weight is not (0 or 1))
                    throw new UserInputException($"{at}: weight: must be 0 or 1");
                trainedAssistant |= role == ChatMessage.Assistant && weight == 1;
            }
            else trainedAssistant |= role == ChatMessage.Assistant;
            tokens += 3 + tokenizer.CountTokens(role) + tokenizer.CountTokens(c.GetString()!);
            if (message.TryGetProperty("name", out var name))
                tokens += 1 + tokenizer.CountTokens(name.ValueKind == JsonValueKind.String ? name.GetString()! : name.GetRawText());
        }
        if (!trainedAssistant)
            throw new UserInputException($"{where}: no assistant message to train on (every example needs one, with weight 1 if weighted)");
        if (tokens > model.ExampleTokenLimit)
            throw new UserInputException($"{where}: {tokens} tokens ({model.Tokenizer}), more than the {model.ExampleTokenLimit} a training example of {model.Model} may hold");
    }
}
