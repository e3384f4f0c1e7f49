using System.Collections.Concurrent;
using ServerlessTune.Core.Chat;

namespace ServerlessTune.Core.Tokenization;

/// <summary>Shared work of the chat formats: role checks, weights, and encoding through <see cref="ChatTurns"/>.</summary>
internal abstract class ChatTemplate(ITextTokenizer tokenizer, ChatTemplateTokens tokens) : IChatTemplate
{
    protected ITextTokenizer Tokenizer { get; } = tokenizer;
    protected ChatTemplateTokens Tokens { get; } = tokens;

    private readonly ConcurrentDictionary<string, int> _scaffoldCounts = new(StringComparer.Ordinal);

    public abstract string Name { get; }

    /// <summary>The marker that ends an assistant turn in this format.</summary>
    protected abstract string EndOfTurn { get; }

    public IReadOnlyList<string> StopStrings => [.. new[] { EndOfTurn, Tokens.Eos }.Where(s => s.Length > 0).Distinct()];

    public IReadOnlyList<int> StopTokenIds
    {
        get
        {
            var ids = new List<int>();
            if (Tokenizer.TryGetSpecialTokenId(EndOfTurn, out var endOfTurn))
                ids.Add(endOfTurn);
            if (Tokenizer.EosTokenId is { } eos && !ids.Contains(eos))
                ids.Add(eos);
            return ids;
        }
    }

    public ChatEncoding Encode(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt) =>
        Build(messages, addGenerationPrompt).Encode();

    public ChatTokenCount Count(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt) =>
        Build(messages, addGenerationPrompt).Count();

    public string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt) =>
        Build(messages, addGenerationPrompt).Render();

    protected abstract void Write(ChatTurns turns, IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt);

    protected static bool IsTrained(ChatMessage message) =>
        message.Role == ChatMessage.Assistant && message.Weight is not 0;

    private ChatTurns Build(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        for (var i = 0; i < messages.Count; i++)
        {
            var role = messages[i].Role;
            if (role is not (ChatMessage.System or ChatMessage.User or ChatMessage.Assistant))
                throw new UserInputException($"message {i + 1}: role '{role}' is not one of system, user, assistant");
            if (role == ChatMessage.System && i > 0)
                throw new UserInputException($"message {i + 1}: a system message may only come first");
        }
        var turns = new ChatTurns(Tokenizer, _scaffoldCounts);
        Write(turns, messages, addGenerationPrompt);
        return turns;
    }
}

/// <summary>BOS and EOS as text, from tokenizer_config.json or the tokenizer ("" when it has none).</summary>
internal sealed record ChatTemplateTokens(string Bos, string Eos);
