namespace ServerlessTune.Core.Generation;

/// <summary>Why a sequence ended, in the OpenAI finish_reason vocabulary.</summary>
public enum FinishReason
{
    /// <summary>An end token (EOS or the chat template's end of turn) or a stop string.</summary>
    Stop,
    /// <summary>Max new tokens, or the model's context, ran out.</summary>
    Length,
}

/// <summary>One generated sequence: its text (stop string excluded), the new token ids (end token
/// excluded) and how many tokens its prompt had.</summary>
public sealed record GenerationResult(string Text, int[] TokenIds, FinishReason FinishReason, int PromptTokens);
