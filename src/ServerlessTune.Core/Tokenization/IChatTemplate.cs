using ServerlessTune.Core.Chat;

namespace ServerlessTune.Core.Tokenization;

/// <summary>
/// A chat format (ChatML, Llama 2, Llama 3, Phi-3, Zephyr, plain) bound to a tokenizer. Message text is
/// always encoded as plain text; only the format's own markers become special ids.
/// </summary>
public interface IChatTemplate
{
    string Name { get; }

    /// <summary>
    /// Token ids of the conversation and, per token, whether the model is trained to produce it: the content and
    /// end-of-turn token of assistant messages whose Weight is not 0. With <paramref name="addGenerationPrompt"/>
    /// the assistant header is appended so generation continues as the assistant.
    /// </summary>
    ChatEncoding Encode(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt);

    /// <summary>The length of <see cref="Encode"/>'s ids and the number of trained tokens, without building them.</summary>
    ChatTokenCount Count(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt);

    /// <summary>The conversation as text, the way the model family's own chat template prints it.</summary>
    string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt);

    /// <summary>Strings that end an assistant turn when the model writes them as text.</summary>
    IReadOnlyList<string> StopStrings { get; }

    /// <summary>Token ids that end an assistant turn (end-of-turn marker and the tokenizer's EOS).</summary>
    IReadOnlyList<int> StopTokenIds { get; }
}

/// <summary>Ids and a same-length mask, true on the tokens the assistant produced.</summary>
public sealed record ChatEncoding(int[] Ids, bool[] AssistantMask);

public readonly record struct ChatTokenCount(int Tokens, int TrainedTokens);
