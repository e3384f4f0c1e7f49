using System.Text;
using ServerlessTune.Core.Chat;
using ServerlessTune.Core.Generation;

namespace ServerlessTune.Core.Evaluation;

/// <summary>
/// Plays scripted dialogues through the chat engine (<see cref="ChatSession"/>: the same history handling
/// as `stune chat` and serving). The transcript keeps every turn, including ones the session had to drop
/// from its prompt to fit the context.
/// </summary>
public static class DialogueRunner
{
    public static async Task<IReadOnlyList<DialogueTranscript>> RunAsync(ChatModel model, string modelName, IReadOnlyList<DialogueScript> scripts,
        GenerationOptions options, CancellationToken cancellationToken = default)
    {
        var transcripts = new List<DialogueTranscript>();
        foreach (var script in scripts)
        {
            var session = new ChatSession(model, options, script.System);
            var messages = new List<ChatMessage>();
            if (script.System is not null)
                messages.Add(new ChatMessage(ChatMessage.System, script.System));
            foreach (var turn in script.Turns)
            {
                var answer = new StringBuilder();
                await foreach (var delta in session.SendAsync(turn, cancellationToken))
                    answer.Append(delta);
                messages.Add(new ChatMessage(ChatMessage.User, turn));
                messages.Add(new ChatMessage(ChatMessage.Assistant, answer.ToString()));
            }
            transcripts.Add(new DialogueTranscript(script.Id, modelName, messages));
        }
        return transcripts;
    }
}
