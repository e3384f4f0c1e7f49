using ServerlessTune.Core.Chat;

namespace ServerlessTune.Core.Tokenization;

/// <summary>
/// Llama 2 chat: &lt;s&gt;[INST] &lt;&lt;SYS&gt;&gt;\nsystem\n&lt;&lt;/SYS&gt;&gt;\n\nuser [/INST] answer &lt;/s&gt; per
/// exchange, as Meta's reference code and the Transformers template print it. The prompt ends with [/INST],
/// so there is no separate generation header.
/// </summary>
internal sealed class Llama2Template(ITextTokenizer tokenizer, ChatTemplateTokens tokens) : ChatTemplate(tokenizer, tokens)
{
    public override string Name => "llama2";
    protected override string EndOfTurn => Tokens.Eos;

    protected override void Write(ChatTurns turns, IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        var start = 0;
        var system = "";
        if (messages.Count > 0 && messages[0].Role == ChatMessage.System)
        {
            system = $"<<SYS>>\n{messages[0].Content.Trim()}\n<</SYS>>\n\n";
            start = 1;
        }
        for (var i = start; i < messages.Count; i++)
        {
            var message = messages[i];
            var expected = (i - start) % 2 == 0 ? ChatMessage.User : ChatMessage.Assistant;
            if (message.Role != expected)
                throw new UserInputException($"message {i + 1}: llama2 needs user and assistant turns to alternate, found '{message.Role}'");
            if (message.Role == ChatMessage.User)
            {
                turns.Marker(Tokens.Bos).Text($"[INST] {(i == start ? system : "")}{message.Content.Trim()} [/INST]");
                continue;
            }
            var trained = IsTrained(message);
            turns.Text($" {message.Content.Trim()} ", trained).Marker(Tokens.Eos, trained);
        }
    }
}
