using System.Text;

namespace ServerlessTune.Core.Data.Mapping;

/// <summary>What a column or key name says it holds.</summary>
public enum FieldRole
{
    User, Input, Context, Assistant, System, Id, Category, Text,
    /// <summary>Names that hold the question only when nothing better does (title, subject, issue...).</summary>
    WeakUser,
    /// <summary>Names that hold the answer only when nothing better does (body, explanation...).</summary>
    WeakAssistant,
}

/// <summary>
/// The column and key names public support and instruction datasets use, as Axolotl, TRL and the Hugging Face hub
/// spell them: OpenAI prompt/completion, Alpaca instruction/input/output, Dolly instruction/context/response,
/// Bitext flags/instruction/category/intent/response, FAQ question/answer, ticket exports customer/agent. Names are
/// compared without case and punctuation; a compound name is judged by its last word ("customer_question",
/// "ticket_id"), or by the word before a generic one ("agent_message").
/// </summary>
public static class FieldNames
{
    static readonly Dictionary<string, FieldRole> Names = Build(
        (FieldRole.User, ["question", "questions", "q", "query", "prompt", "instruction", "instructions", "user", "usermessage", "userinput",
            "userquery", "customer", "customermessage", "customerquery", "utterance", "request", "human", "inquiry", "enquiry"]),
        (FieldRole.Input, ["input"]),
        (FieldRole.Context, ["context", "passage", "document", "knowledge", "background"]),
        (FieldRole.Assistant, ["answer", "answers", "a", "response", "responses", "output", "completion", "reply", "assistant",
            "assistantmessage", "assistantresponse", "agent", "agentresponse", "agentreply", "bot", "botresponse", "gpt", "resolution",
            "solution", "target"]),
        (FieldRole.System, ["system", "systemprompt", "systemmessage", "sysprompt", "persona"]),
        (FieldRole.Id, ["id", "uid", "uuid", "guid", "recordid", "ticketid", "conversationid", "qid", "idx", "index"]),
        (FieldRole.Category, ["category", "categories", "intent", "label", "labels", "tag", "tags", "topic", "type", "class", "flags",
            "language", "lang", "source", "domain"]),
        (FieldRole.Text, ["text", "content"]),
        (FieldRole.WeakUser, ["title", "subject", "issue", "problem", "description", "summary"]),
        (FieldRole.WeakAssistant, ["body", "explanation"]));

    static readonly HashSet<string> Generic = ["message", "msg", "text", "content", "body", "turn", "string", "value"];

    /// <summary>List-valued keys that hold a conversation as a list of turns.</summary>
    public static readonly string[] MessageLists = ["messages", "conversations", "conversation", "dialog", "dialogue", "chat", "turns"];

    /// <summary>Keys of one turn: who speaks, and what they say (OpenAI role/content, ShareGPT from/value).</summary>
    public static readonly string[] RoleKeys = ["role", "from", "speaker", "author"];
    public static readonly string[] ContentKeys = ["content", "value", "text"];

    static Dictionary<string, FieldRole> Build(params (FieldRole Role, string[] Names)[] groups)
    {
        var names = new Dictionary<string, FieldRole>(StringComparer.Ordinal);
        foreach (var (role, list) in groups)
            foreach (var name in list) names.Add(name, role);
        return names;
    }

    public static FieldRole? Classify(string name)
    {
        if (Names.TryGetValue(Simplify(name), out var role)) return role;
        var words = Words(name);
        for (int i = words.Count - 1; i >= 1; i--)
        {
            if (Generic.Contains(words[i])) continue;
            return words[i].Length > 1 && Names.TryGetValue(words[i], out role) ? role : null;
        }
        return words.Count > 1 && words[0].Length > 1 && Names.TryGetValue(words[0], out role) ? role : null;
    }

    /// <summary>Lower-case letters and digits only: "Customer Question" and "customer_question" are the same name.</summary>
    public static string Simplify(string name)
    {
        var simple = new StringBuilder(name.Length);
        foreach (char c in name)
            if (char.IsLetterOrDigit(c)) simple.Append(char.ToLowerInvariant(c));
        return simple.ToString();
    }

    /// <summary>Words split at punctuation, spaces and camelCase humps ("agentResponse" is agent, response).</summary>
    static List<string> Words(string name)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            bool hump = char.IsUpper(c) && i > 0 && char.IsLower(name[i - 1]);
            if (!char.IsLetterOrDigit(c) || hump)
            {
                if (word.Length > 0) words.Add(word.ToString());
                word.Clear();
                if (!char.IsLetterOrDigit(c)) continue;
            }
            word.Append(char.ToLowerInvariant(c));
        }
        if (word.Length > 0) words.Add(word.ToString());
        return words;
    }
}
