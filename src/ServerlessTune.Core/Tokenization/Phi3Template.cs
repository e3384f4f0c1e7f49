using ServerlessTune.Core.Chat;

namespace ServerlessTune.Core.Tokenization;

/// <summary>
/// Phi-3: &lt;|role|&gt;\ncontent&lt;|end|&gt;\n per message; a finished conversation (no generation prompt)
/// ends with the EOS token, as Microsoft's template does.
/// </summary>
internal sealed class Phi3Template(ITextTokenizer tokenizer, ChatTemplateTokens tokens) : ChatTemplate(tokenizer, tokens)
{
    public override string Name => "phi3";
    protected override string EndOfTurn => "<|end|>";

    protected override void Write(ChatTurns turns, IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        foreach (var message in messages)
        {
            var trained = IsTrained(message);
            turns.Marker($"<|{message.Role}|>").Scaffold("\n")
                .Text(message.Content, trained).Marker(EndOfTurn, trained)
                .Scaffold("\n");
        }
        if (addGenerationPrompt)
            turns.Marker("<|assistant|>").Scaffold("\n");
        else
            turns.Marker(Tokens.Eos);
    }
}
