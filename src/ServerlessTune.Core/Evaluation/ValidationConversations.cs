using ServerlessTune.Core.Tokenization;
using ServerlessTune.Core.Training;

namespace ServerlessTune.Core.Evaluation;

/// <summary>
/// A prepared validation.jsonl rendered the way the trainer renders it (<see cref="RecordRendering"/>), so
/// the evaluation's assistant NLL is the trainer's validation loss. A conversation longer than the model's
/// context cannot be scored whole: it is an error naming its line, never silently cut.
/// </summary>
public static class ValidationConversations
{
    public static IReadOnlyList<ChatEncoding> Load(string path, IChatTemplate template, ITextTokenizer tokenizer, int contextLength)
    {
        var encodings = new List<ChatEncoding>();
        foreach (var record in PreparedChatFile.Read(path))
        {
            var encoding = RecordRendering.Encode(record, template, tokenizer);
            if (encoding.Ids.Length > contextLength)
                throw new UserInputException(
                    $"{record.Source}:{record.Line}: conversation is {encoding.Ids.Length} tokens, longer than the model's context of {contextLength}");
            encodings.Add(encoding);
        }
        if (!encodings.Any(e => e.AssistantMask.Skip(1).Any(m => m)))
            throw new UserInputException($"{path}: no assistant tokens to measure (no conversations, or every assistant turn has weight 0)");
        return encodings;
    }
}
