using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using ServerlessTune.Core.Chat;

namespace ServerlessTune.Core.Data.Output;

/// <summary>
/// The JSONL lines prepare writes. Keys are always in the same order and non-ASCII text is kept as
/// UTF-8 (relaxed escaping: these are data files, not HTML), so equal input gives byte-equal output.
/// Passages carry "kind": "passage" after the OpenAI-format messages.
/// </summary>
public static class RecordJson
{
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static byte[] Record(Conversation conversation) => Chat(conversation.Messages, conversation.Kind == RecordKind.Passage);

    /// <summary>One {"messages": [...]} line, the OpenAI chat format (also the fine-tuning API's); a passage is marked after its messages.</summary>
    public static byte[] Chat(IEnumerable<ChatMessage> messages, bool passage = false)
    {
        var (buffer, writer) = Writer();
        writer.WriteStartObject();
        writer.WriteStartArray("messages");
        foreach (var message in messages)
        {
            writer.WriteStartObject();
            writer.WriteString("role", message.Role);
            writer.WriteString("content", message.Content);
            if (message.Weight is { } weight) writer.WriteNumber("weight", weight);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        if (passage) writer.WriteString("kind", "passage");
        writer.WriteEndObject();
        writer.Flush();
        return WithNewline(buffer);
    }

    public static byte[] Reject(string source, long line, Rejection rejection)
    {
        var (buffer, writer) = Writer();
        writer.WriteStartObject();
        writer.WriteString("source", source);
        writer.WriteNumber("line", line);
        writer.WriteString("reason", rejection.Reason);
        writer.WriteString("message", rejection.Message);
        writer.WriteEndObject();
        writer.Flush();
        return WithNewline(buffer);
    }

    // One buffer and writer per thread, reset per line, instead of allocating and growing a fresh pair per record.
    [ThreadStatic] static ArrayBufferWriter<byte>? t_buffer;
    [ThreadStatic] static Utf8JsonWriter? t_writer;

    static (ArrayBufferWriter<byte> Buffer, Utf8JsonWriter Writer) Writer()
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(1024);
        buffer.ResetWrittenCount();
        var writer = t_writer ??= new Utf8JsonWriter(buffer, WriterOptions);
        writer.Reset(buffer);
        return (buffer, writer);
    }

    static byte[] WithNewline(ArrayBufferWriter<byte> buffer)
    {
        var bytes = new byte[buffer.WrittenCount + 1];
        buffer.WrittenSpan.CopyTo(bytes);
        bytes[^1] = (byte)'\n';
        return bytes;
    }
}
