using ServerlessTune.Core.Tokenization;

namespace ServerlessTune.Core.Training;

/// <summary>
/// How a prepared record becomes token ids and a loss mask, the same in training and in evaluation. A conversation goes
/// through the model's chat template, with the loss on the assistant turns. A passage of a document is plain-text
/// continuation: its tokens then end-of-text, every one in the loss. A document is not an answer to anyone, so wrapping
/// it as an assistant turn with no question would teach the model to recite manuals unprompted in chat format; as text
/// it teaches the facts and the domain's language, which the chat records then draw on. Data preparation counts a
/// passage the same way (<see cref="Data.RecordEncoder"/>).
/// </summary>
public static class RecordRendering
{
    public static ChatEncoding Encode(ChatRecord record, IChatTemplate template, ITextTokenizer tokenizer)
    {
        if (!record.IsPassage) return template.Encode(record.Messages, addGenerationPrompt: false);
        var text = tokenizer.EncodePlain(record.Messages[0].Content);
        int[] ids = tokenizer.EosTokenId is { } eos ? [.. text, eos] : text;
        return new ChatEncoding(ids, Enumerable.Repeat(true, ids.Length).ToArray());
    }
}
