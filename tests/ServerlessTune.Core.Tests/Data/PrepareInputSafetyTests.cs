using System.Text;
using ServerlessTune.Core.Data;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Core.Tests.Data;

/// <summary>Hostile and careless inputs: links out of the folder, link loops, wide encodings, NUL bytes, keys given twice.</summary>
public sealed class PrepareInputSafetyTests : IDisposable
{
    readonly PrepareHarness _h = new();
    readonly string _outside = Directory.CreateTempSubdirectory("stune-outside-").FullName;

    public void Dispose()
    {
        _h.Dispose();
        Directory.Delete(_outside, recursive: true);
    }

    static PrepareOptions NoValidation => new() { ValidationFraction = 0 };

    static string Chat(string question, string answer) =>
        $"{{\"messages\":[{{\"role\":\"user\",\"content\":\"{question}\"}},{{\"role\":\"assistant\",\"content\":\"{answer}\"}}]}}";

    [Fact]
    public async Task Links_out_of_the_folder_dangling_links_and_loops_are_rejects_naming_the_file_and_nothing_outside_is_read()
    {
        string folder = Path.Combine(_h.Root, "export");
        Directory.CreateDirectory(Path.Combine(folder, "sub"));
        File.WriteAllText(Path.Combine(folder, "good.jsonl"), Chat("Is the lock loud?", "No, it is quiet.") + "\n");
        File.WriteAllText(Path.Combine(folder, "sub", "more.jsonl"), Chat("Battery type?", "Four AA.") + "\n");
        string secretFile = Path.Combine(_outside, "passwd.jsonl");
        File.WriteAllText(secretFile, Chat("OUTSIDE-THE-FOLDER", "must never be read") + "\n");
        Directory.CreateDirectory(Path.Combine(_outside, "dir"));
        File.WriteAllText(Path.Combine(_outside, "dir", "x.jsonl"), Chat("OUTSIDE-DIR", "must never be read") + "\n");
        File.CreateSymbolicLink(Path.Combine(folder, "system.jsonl"), secretFile);
        File.CreateSymbolicLink(Path.Combine(folder, "dangling.jsonl"), Path.Combine(_outside, "gone.jsonl"));
        File.CreateSymbolicLink(Path.Combine(folder, "loop-a.jsonl"), Path.Combine(folder, "loop-b.jsonl"));
        File.CreateSymbolicLink(Path.Combine(folder, "loop-b.jsonl"), Path.Combine(folder, "loop-a.jsonl"));
        Directory.CreateSymbolicLink(Path.Combine(folder, "etc"), Path.Combine(_outside, "dir"));
        Directory.CreateSymbolicLink(Path.Combine(folder, "sub", "up"), folder); // a loop through a folder link
        File.CreateSymbolicLink(Path.Combine(folder, "alias.jsonl"), Path.Combine(folder, "good.jsonl")); // inside: read

        var inputs = await LocalInputs.ResolveAsync([folder], excludeFolder: null);
        var store = new LocalFolderStore(Path.Combine(_h.Root, "out"));
        var stats = await DataPreparationService.RunAsync(new PrepareRequest(inputs, store, "", NoValidation));

        Assert.True(stats.AccountingHolds);
        string rejects = File.ReadAllText(Path.Combine(_h.Root, "out", "rejects.jsonl"));
        foreach (var name in new[] { "export/system.jsonl", "export/dangling.jsonl", "export/loop-a.jsonl", "export/loop-b.jsonl", "export/etc" })
            Assert.Contains($"\"source\":\"{name}\",\"line\":0,\"reason\":\"unsafe_link\"", rejects);
        Assert.Contains("outside the input folder", rejects);
        Assert.Contains("dangling symbolic link", rejects);
        Assert.Contains("symbolic link loop", rejects);
        string train = File.ReadAllText(Path.Combine(_h.Root, "out", "train.jsonl"));
        Assert.DoesNotContain("OUTSIDE", train);
        Assert.Contains("Four AA.", train);
        Assert.Equal((5L, 2L, 1L), (stats.Totals.Rejected, stats.Totals.Kept, stats.Totals.Deduplicated)); // alias.jsonl repeats good.jsonl
        Assert.DoesNotContain(stats.Files, f => f.Path.Contains("/up/"));
    }

    [Theory]
    [InlineData("utf-16le")]
    [InlineData("utf-16be")]
    [InlineData("utf-32le")]
    [InlineData("utf-32be")]
    public async Task Files_in_utf16_or_utf32_with_a_bom_are_decoded_and_their_hash_is_of_their_bytes(string name)
    {
        Encoding encoding = name switch
        {
            "utf-16le" => new UnicodeEncoding(false, true),
            "utf-16be" => new UnicodeEncoding(true, true),
            "utf-32le" => new UTF32Encoding(false, true),
            _ => new UTF32Encoding(true, true),
        };
        string text = Chat("Où est le bouton « reset » ?", "Sous le couvercle, à gauche.") + "\r\n" + Chat("Batterie ?", "Quatre piles AA.") + "\r\n";
        byte[] bytes = [.. encoding.GetPreamble(), .. encoding.GetBytes(text)];
        string jsonl = _h.AddBytes($"{name}.jsonl", bytes);
        string csv = _h.AddBytes($"{name}.csv", [.. encoding.GetPreamble(), .. encoding.GetBytes("question,answer\r\nÇa marche hors ligne ?,\"Oui, en Bluetooth.\"\r\n")]);

        var outcome = await _h.RunAsync(NoValidation, paths: [jsonl, csv]);

        Assert.Equal(new[] { name, name }, outcome.Stats.Files.Select(f => f.Encoding));
        Assert.Equal(new[] { "Où est le bouton « reset » ?", "Sous le couvercle, à gauche.", "Batterie ?", "Quatre piles AA.", "Ça marche hors ligne ?", "Oui, en Bluetooth." },
            outcome.KeptContents());
        string manifest = File.ReadAllText(Path.Combine(outcome.Root, "manifest.json"));
        Assert.Contains(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)), manifest);
        Assert.Contains($"\"size\": {bytes.Length}", manifest);
    }

    [Fact]
    public async Task Utf16_without_a_bom_is_refused_with_a_message_that_says_utf16()
    {
        string path = _h.AddBytes("export.jsonl", Encoding.Unicode.GetBytes(Chat("Hello?", "Hi.") + "\n" + Chat("Still there?", "Yes.") + "\n"));

        var outcome = await _h.RunAsync(NoValidation, paths: path);

        Assert.Equal("unrecognized_format", outcome.ReasonAt(path, 1));
        Assert.Contains("UTF-16 without a byte-order mark", outcome.Reject(path, 1).GetProperty("message").GetString());
    }

    [Fact]
    public async Task A_nul_byte_rejects_only_the_record_it_is_in()
    {
        byte[] Nul(string before, string after) => [.. Encoding.UTF8.GetBytes(before), 0, .. Encoding.UTF8.GetBytes(after)];
        string jsonl = _h.AddBytes("chat.jsonl", [.. Encoding.UTF8.GetBytes(Chat("First?", "Kept.") + "\n"), .. Nul(Chat("Sec", "ond?"), "\n"),
            .. Encoding.UTF8.GetBytes(Chat("Third?", "Kept too.") + "\n")]);
        string csv = _h.AddBytes("faq.csv", [.. "question,answer\nOne?,Yes.\n"u8.ToArray(), .. Nul("Two?,N", "o.\n"), .. "Three?,Maybe.\n"u8.ToArray()]);
        string transcript = _h.AddBytes("calls.txt", [.. "Customer: Hi\nAgent: Hello.\n\nCustomer: Bad\n"u8.ToArray(), .. Nul("Agent: x", "y\n"),
            .. "\nCustomer: Bye\nAgent: Goodbye.\n"u8.ToArray()]);

        var outcome = await _h.RunAsync(NoValidation, paths: [jsonl, csv, transcript]);

        Assert.Equal("nul_byte", outcome.ReasonAt(jsonl, 2));
        Assert.Equal("nul_byte", outcome.ReasonAt(csv, 3));
        Assert.Equal("nul_byte", outcome.ReasonAt(transcript, 4));
        Assert.Contains("NUL byte on line 5", outcome.Reject(transcript, 4).GetProperty("message").GetString());
        Assert.Equal(new[] { "jsonl", "csv", "transcript" }, outcome.Stats.Files.Select(f => f.Format));
        Assert.Equal(new long[] { 2, 2, 2 }, outcome.Stats.Files.Select(f => f.Counts.Kept));
        Assert.True(outcome.Stats.AccountingHolds);
    }

    [Fact]
    public async Task A_key_given_twice_is_a_reject_naming_the_key()
    {
        string path = _h.AddText("twice.jsonl", string.Join("\n",
            Chat("Fine?", "Yes."),
            """{"messages":[{"role":"user","content":"a"}],"messages":[{"role":"assistant","content":"b"}]}""",
            """{"messages":[{"role":"user","content":"a","content":"b"},{"role":"assistant","content":"c"}]}""") + "\n");

        var outcome = await _h.RunAsync(NoValidation, paths: path);

        Assert.Single(outcome.Train);
        Assert.Equal("key 'messages' appears twice in one object", outcome.Reject(path, 2).GetProperty("message").GetString());
        Assert.Equal("key 'content' appears twice in one object", outcome.Reject(path, 3).GetProperty("message").GetString());
    }
}
