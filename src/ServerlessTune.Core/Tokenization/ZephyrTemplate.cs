using ServerlessTune.Core.Chat;

namespace ServerlessTune.Core.Tokenization;

/// <summary>Zephyr and TinyLlama-Chat: &lt;|role|&gt;\ncontent&lt;/s&gt;\n per message, EOS ending every turn.</summary>
internal sealed class ZephyrTemplate(ITextTokenizer tokenizer, ChatTemplateTokens tokens) : ChatTemplate(tokenizer, tokens)
{
    public override string Name => "zephyr";
    protected override string EndOfTurn => Tokens.Eos;

    protected override void Write(ChatTurns turns, IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        foreach (var message in messages)
        {
            var trained = IsTrained(message);
            turns.Scaffold($"<|{message.Role}|>\n").Text(message.Content, trained).Marker(EndOfTurn, trained).Scaffold("\n");
        }
        if (addGenerationPrompt)
            turns.Scaffold("<|assistant|>\n");
    }
}
