using System.Runtime.CompilerServices;
using System.Text;
using ServerlessTune.Core.Chat;

namespace ServerlessTune.Core.Generation;

/// <summary>
/// A conversation with a model: each user line is answered with the whole history in the prompt, and
/// the streamed answer joins the history. When the history outgrows the context, the oldest turns
/// (after any system message) are dropped, a whole exchange at a time.
/// </summary>
public sealed class ChatSession(ChatModel model, GenerationOptions options, string? systemPrompt = null)
{
    readonly List<ChatMessage> history = systemPrompt is null ? [] : [new(ChatMessage.System, systemPrompt)];

    public IReadOnlyList<ChatMessage> History => history;

    /// <summary>Adds the user's message and streams the assistant's answer.</summary>
    public async IAsyncEnumerable<string> SendAsync(string userText, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        history.Add(new ChatMessage(ChatMessage.User, userText));
        var answer = new StringBuilder();
        var completed = false;
        try
        {
            await foreach (var delta in model.Generator.StreamAsync(FittingPrompt(), model.ForChat(options), cancellationToken))
            {
                answer.Append(delta);
                yield return delta;
            }
            completed = true;
        }
        finally
        {
            // An interrupted turn leaves no trace, so the next prompt is not built on half an answer.
            if (completed) history.Add(new ChatMessage(ChatMessage.Assistant, answer.ToString()));
            else history.RemoveAt(history.Count - 1);
        }
    }

    int[] FittingPrompt()
    {
        var room = model.Generator.Model.Config.MaxPositions - 1;
        var ids = model.EncodeChat(history);
        var firstDroppable = history[0].Role == ChatMessage.System ? 1 : 0;
        while (ids.Length > room && history.Count - firstDroppable > 1)
        {
            // Whole exchanges go, so the kept history still opens with a user turn.
            do history.RemoveAt(firstDroppable);
            while (history.Count - firstDroppable > 1 && history[firstDroppable].Role != ChatMessage.User);
            ids = model.EncodeChat(history);
        }
        if (ids.Length > room)
            throw new UserInputException($"the message is {ids.Length} tokens with its template; the model's context holds {room + 1}");
        return ids;
    }
}
