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

    protected override void Write(ChatTurns turns, IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        foreach (var message in messages)
        {
            var trained = IsTrained(message);
            turns.Marker(ImStart).Text(message.Role + "\n")
                .Text(message.Content, trained).Marker(EndOfTurn, trained)
                .Text("\n");
        }
        if (addGenerationPrompt)
            turns.Marker(ImStart).Text("assistant\n");
    }
}
