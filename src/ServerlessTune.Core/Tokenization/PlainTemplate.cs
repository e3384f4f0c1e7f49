using ServerlessTune.Core.Chat;

namespace ServerlessTune.Core.Tokenization;

/// <summary>
/// For base models without a chat format: "System: ...\nUser: ...\nAssistant: ..." lines, the assistant's
/// answer followed by EOS. The answer's leading space belongs to the answer so the prompt ends at "Assistant:".
/// </summary>
internal sealed class PlainTemplate(ITextTokenizer tokenizer, ChatTemplateTokens tokens) : ChatTemplate(tokenizer, tokens)
{
    public override string Name => "plain";
    protected override string EndOfTurn => "\nUser:";

    protected override void Write(ChatTurns turns, IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        foreach (var message in messages)
        {
            switch (message.Role)
            {
                case ChatMessage.System:
                    turns.Text($"System: {message.Content}\n");
                    break;
                case ChatMessage.User:
                    turns.Text($"User: {message.Content}\n");
                    break;
                default:
                    var trained = IsTrained(message);
                    turns.Scaffold("Assistant:").Text(" " + message.Content, trained).Marker(Tokens.Eos, trained).Scaffold("\n");
                    break;
            }
        }
        if (addGenerationPrompt)
            turns.Scaffold("Assistant:");
    }
}
