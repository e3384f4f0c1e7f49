using ServerlessTune.Core.Chat;

namespace ServerlessTune.Core.Tokenization;

/// <summary>
/// Llama 3: &lt;|begin_of_text|&gt; then &lt;|start_header_id|&gt;role&lt;|end_header_id|&gt;\n\ncontent&lt;|eot_id|&gt;
/// per message (content trimmed, as Meta's template does).
/// </summary>
internal sealed class Llama3Template(ITextTokenizer tokenizer, ChatTemplateTokens tokens) : ChatTemplate(tokenizer, tokens)
{
    private const string StartHeader = "<|start_header_id|>";
    private const string EndHeader = "<|end_header_id|>";

    public override string Name => "llama3";
    protected override string EndOfTurn => "<|eot_id|>";

    protected override void Write(ChatTurns turns, IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        turns.Marker(Tokens.Bos);
        foreach (var message in messages)
        {
            var trained = IsTrained(message);
            turns.Marker(StartHeader).Scaffold(message.Role).Marker(EndHeader).Scaffold("\n\n")
                .Text(message.Content.Trim(), trained).Marker(EndOfTurn, trained);
        }
        if (addGenerationPrompt)
            turns.Marker(StartHeader).Scaffold(ChatMessage.Assistant).Marker(EndHeader).Scaffold("\n\n");
    }
}
