using ServerlessTune.Core.Chat;
using ServerlessTune.Core.Tokenization;

namespace ServerlessTune.Core.Data;

/// <summary>Token counts of one record as the trainer will see it, after any truncation.</summary>
public readonly record struct EncodedSize(Conversation Conversation, int Tokens, int TrainedTokens, bool Truncated);

/// <summary>
/// Stage 5: counts tokens exactly as training will encode the record: chats through the chat template
/// (trained tokens = the assistant mask), passages as plain text plus end-of-text (all trained). Over the
/// limit, a record is dropped, or truncated: a chat loses whole turns from the end (it must still end on an
/// assistant turn), a passage loses its tail.
/// </summary>
public sealed class RecordEncoder(ITextTokenizer tokenizer, IChatTemplate template, int maxTokens, OverLimitPolicy policy)
{
    public string TokenizerName => tokenizer.Name;
    public string TemplateName => template.Name;

    /// <summary>The sized record (truncated if the policy allows), and whether it fits under the limit.</summary>
    public (EncodedSize Size, bool Fits) Encode(Conversation conversation)
    {
        var size = Measure(conversation);
        if (size.Tokens <= maxTokens) return (size, true);
        if (policy == OverLimitPolicy.Drop) return (size, false);
        var truncated = conversation.Kind == RecordKind.Passage ? TruncatePassage(conversation) : TruncateChat(conversation);
        return truncated is { } fitted ? (fitted, true) : (size, false);
    }

    public EncodedSize Measure(Conversation conversation)
    {
        if (conversation.Kind == RecordKind.Passage)
        {
            int tokens = tokenizer.CountTokens(conversation.Messages[0].Content) + (tokenizer.EosTokenId is null ? 0 : 1);
            return new EncodedSize(conversation, tokens, tokens, false);
        }
        var count = template.Count(conversation.Messages, addGenerationPrompt: false);
        return new EncodedSize(conversation, count.Tokens, count.TrainedTokens, false);
    }

    EncodedSize? TruncateChat(Conversation conversation)
    {
        for (int count = conversation.Messages.Count - 1; count > 0; count--)
        {
            var messages = conversation.Messages.Take(count).ToList();
            if (messages[^1].Role != ChatMessage.Assistant) continue;
            var size = Measure(conversation with { Messages = messages });
            if (size.Tokens <= maxTokens) return size with { Truncated = true };
        }
        return null;
    }

    EncodedSize? TruncatePassage(Conversation conversation)
    {
        var ids = tokenizer.EncodePlain(conversation.Messages[0].Content);
        int room = maxTokens - (tokenizer.EosTokenId is null ? 0 : 1);
        // Decoding a prefix and encoding it again can merge differently at the cut; shrink until it fits.
        while (room > 0)
        {
            // A cut can fall inside a multi-byte character; drop the partial character rather than keep U+FFFD.
            string text = tokenizer.Decode(ids.Take(room)).TrimEnd('\uFFFD');
            var size = Measure(conversation with { Messages = [conversation.Messages[0] with { Content = text }] });
            if (size.Tokens <= maxTokens) return size with { Truncated = true };
            room -= size.Tokens - maxTokens;
        }
        return null;
    }
}
