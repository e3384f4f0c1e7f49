using ServerlessTune.Core.Chat;

namespace ServerlessTune.Core.Tokenization;

/// <summary>ChatML (Qwen, SmolLM): &lt;|im_start|&gt;role\ncontent&lt;|im_end|&gt;\n per message.</summary>
internal sealed class ChatMlTemplate(ITextTokenizer tokenizer, ChatTemplateTokens tokens) : ChatTemplate(tokenizer, tokens)
{
    /// <summary>The Jinja text tokenizer_config.json carries, as Transformers' apply_chat_template renders it.</summary>
    public const string Jinja =
        "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    private const string ImStart = "<|im_start|>";

    public override string Name => "chatml";
    protected override string EndOfTurn => "<|im_end|>";

    /// <summary>The role line, one string per role rather than one per message.</summary>
    private static string RoleLine(string role) => role switch
    {
        ChatMessage.System => "system\n",
        ChatMessage.User => "user\n",
        ChatMessage.Assistant => "assistant\n",
        _ => role + "\n",
    };

    protected override void Write(ChatTurns turns, IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        foreach (var message in messages)
        {
            var trained = IsTrained(message);
            turns.Marker(ImStart).Scaffold(RoleLine(message.Role))
                .Text(message.Content, trained).Marker(EndOfTurn, trained)
                .Scaffold("\n");
        }
        if (addGenerationPrompt)
            turns.Marker(ImStart).Scaffold("assistant\n");
    }
}
