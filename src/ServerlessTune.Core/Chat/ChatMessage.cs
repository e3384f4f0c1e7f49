namespace ServerlessTune.Core.Chat;

/// <summary>One chat turn in the OpenAI chat format. Weight 0 excludes an assistant turn from the loss.</summary>
public sealed record ChatMessage(string Role, string Content, int? Weight = null)
{
    public const string System = "system";
    public const string User = "user";
    public const string Assistant = "assistant";
}
