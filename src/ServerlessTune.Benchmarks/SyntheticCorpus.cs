using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace ServerlessTune.Benchmarks;

/// <summary>
/// A seeded chat JSONL corpus that exercises every stage the way real exports do: multi-turn support
/// conversations with varied wording, some HTML, personal data and pasted API keys to redact, template placeholders in
/// some answers, about 3% repeated records and about 1% broken lines. Written streaming, so any size costs no memory.
/// </summary>
public static class SyntheticCorpus
{
    static readonly string[] Words = BuildWords();
    static readonly string[] Products = ["Haldor S2 lock", "Haldor bridge", "Haldor keypad", "Haldor doorbell", "Haldor app"];
    const string Alphanumerics = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    static readonly string[] Openers = ["Hi,", "Hello,", "Good morning.", "Hey there,", "Quick question:", ""];

    /// <summary>Writes about <paramref name="bytes"/> bytes of JSONL to <paramref name="path"/>; returns the number of lines.</summary>
    public static long Write(string path, long bytes, int seed)
    {
        var random = new Random(seed);
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        var recent = new List<byte[]>();
        var buffer = new ArrayBufferWriter<byte>(4096);
        long lines = 0;
        while (file.Position < bytes)
        {
            lines++;
            double roll = random.NextDouble();
            if (roll < 0.03 && recent.Count > 0) { file.Write(recent[random.Next(recent.Count)]); continue; }
            if (roll < 0.04) { file.Write(BrokenLine); continue; }
            buffer.ResetWrittenCount();
            using (var json = new Utf8JsonWriter(buffer, WriterOptions)) WriteConversation(json, random);
            buffer.Write("\n"u8);
            file.Write(buffer.WrittenSpan);
            if (recent.Count < 256 && random.Next(16) == 0) recent.Add(buffer.WrittenSpan.ToArray());
        }
        return lines;
    }

    static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    static readonly byte[] BrokenLine = "{\"messages\": [{\"role\": \"user\", \"content\": \"truncated export line\n"u8.ToArray();

    static void WriteConversation(Utf8JsonWriter json, Random random)
    {
        json.WriteStartObject();
        json.WriteStartArray("messages");
        if (random.Next(3) == 0) Message(json, "system", "You are the support assistant for Haldor Home products. Answer briefly and accurately.");
        int turns = random.Next(1, 5);
        for (int t = 0; t < turns; t++)
        {
            Message(json, "user", $"{Openers[random.Next(Openers.Length)]} {Sentence(random, 12, 30)} {Pii(random)}".Trim());
            string answer = Paragraphs(random);
            if (random.Next(10) == 0) answer = $"<p>{answer.Replace("\n\n", "</p><p>")}</p>";
            if (random.Next(30) == 0) answer += " I have noted order {{Order Number}}.";
            Message(json, "assistant", answer);
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    static void Message(Utf8JsonWriter json, string role, string content)
    {
        json.WriteStartObject();
        json.WriteString("role", role);
        json.WriteString("content", content);
        json.WriteEndObject();
    }

    static string Paragraphs(Random random)
    {
        var text = new StringBuilder();
        int paragraphs = random.Next(1, 4);
        for (int p = 0; p < paragraphs; p++)
        {
            if (p > 0) text.Append("\n\n");
            int sentences = random.Next(2, 6);
            for (int s = 0; s < sentences; s++) text.Append(s > 0 ? " " : "").Append(Sentence(random, 8, 24));
        }
        return text.ToString();
    }

    static string Sentence(Random random, int min, int max)
    {
        var text = new StringBuilder();
        int count = random.Next(min, max);
        for (int w = 0; w < count; w++)
        {
            if (w > 0) text.Append(' ');
            text.Append(random.Next(12) == 0 ? Products[random.Next(Products.Length)] : Words[random.Next(Words.Length)]);
            if (random.Next(25) == 0) text.Append(' ').Append(random.Next(1, 999));
        }
        text[0] = char.ToUpperInvariant(text[0]);
        return text.Append(random.Next(6) == 0 ? '?' : '.').ToString();
    }

    static string Pii(Random random) => random.Next(20) switch
    {
        0 => $"My email is user{random.Next(100000)}@example.com.",
        1 => $"Call me on +44 20 7946 {random.Next(1000, 9999)}.",
        2 => "I paid with 4111 1111 1111 1111.",
        3 => $"Order #{random.Next(100000000, 999999999)} from {random.Next(1, 28):00}.{random.Next(1, 12):00}.2025.",
        4 => $"My key is sk-{new string(Enumerable.Range(0, 48).Select(_ => Alphanumerics[random.Next(Alphanumerics.Length)]).ToArray())} if that helps.",
        _ => "",
    };

    /// <summary>A vocabulary of pronounceable pseudo-words, so conversations are distinct but tokenize like prose.</summary>
    static string[] BuildWords()
    {
        string[] common = ["the", "lock", "door", "battery", "app", "open", "close", "please", "settings", "code", "guest", "firmware",
            "update", "bridge", "wifi", "reset", "keypad", "sensor", "alarm", "schedule", "user", "phone", "bluetooth", "install", "check",
            "and", "to", "of", "a", "is", "it", "you", "can", "with", "for", "on", "this", "that", "when", "after", "before", "not", "my"];
        string consonants = "bcdfghklmnprstvz", vowels = "aeiou";
        var random = new Random(1234);
        var words = new List<string>(common);
        while (words.Count < 6000)
        {
            var word = new StringBuilder();
            int syllables = random.Next(1, 4);
            for (int s = 0; s < syllables; s++) word.Append(consonants[random.Next(consonants.Length)]).Append(vowels[random.Next(vowels.Length)]);
            if (random.Next(2) == 0) word.Append(consonants[random.Next(consonants.Length)]);
            words.Add(word.ToString());
        }
        return [.. words];
    }
}
