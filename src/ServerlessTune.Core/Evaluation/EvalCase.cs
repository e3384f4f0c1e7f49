using ServerlessTune.Core.Chat;

namespace ServerlessTune.Core.Evaluation;

/// <summary>
/// One question for the models: the conversation so far (ending with a user turn), the acceptable
/// answers (may be empty when only checks apply), per-case checks and free tags for slicing results.
/// </summary>
public sealed record EvalCase(
    string Id,
    IReadOnlyList<ChatMessage> Messages,
    IReadOnlyList<string> References,
    CaseChecks Checks,
    IReadOnlyList<string> Tags)
{
    public string Question => MessageList.LastUserText(Messages);
}
