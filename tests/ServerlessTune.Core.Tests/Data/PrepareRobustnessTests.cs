using System.Text;
using ServerlessTune.Core.Data;

namespace ServerlessTune.Core.Tests.Data;

/// <summary>Broken bytes, huge lines, empty and mislabelled files: the run completes, the bad record is named, the rest is kept.</summary>
public sealed class PrepareRobustnessTests : IDisposable
{
    readonly PrepareHarness _h = new();
    public void Dispose() => _h.Dispose();

    static PrepareOptions NoValidation => new() { ValidationFraction = 0 };

    static string Chat(string question, string answer) =>
        $"{{\"messages\":[{{\"role\":\"user\",\"content\":\"{question}\"}},{{\"role\":\"assistant\",\"content\":\"{answer}\"}}]}}";

    [Fact]
    public async Task Invalid_utf8_bytes_reject_only_their_line()
    {
        var bytes = new List<byte>();
        bytes.AddRange(Encoding.UTF8.GetBytes(Chat("Is the lock Matter compatible?", "Yes, from firmware 3.2.") + "\r\n"));
        bytes.AddRange(Encoding.UTF8.GetBytes("{\"messages\":[{\"role\":\"user\",\"content\":\"caf"));
        bytes.AddRange(new byte[] { 0xC3, 0x28, 0xFF });
        bytes.AddRange(Encoding.UTF8.GetBytes("\"},{\"role\":\"assistant\",\"content\":\"ok\"}]}\r\n"));
        bytes.AddRange(Encoding.UTF8.GetBytes(Chat("Can guests use the app?", "Yes, with a guest invitation.") + "\r\n"));
        string path = _h.AddBytes("mixed.jsonl", [.. bytes]);

        var outcome = await _h.RunAsync(NoValidation, paths: path);

        Assert.Equal(2, outcome.Train.Count);
        Assert.Equal("invalid_utf8", outcome.ReasonAt(path, 2));
        // 42 bytes of JSON precede the first bad byte, so it is byte 43 (1-based).
        Assert.Contains("byte 43", outcome.Reject(path, 2).GetProperty("message").GetString());
        Assert.Equal((3L, 2L, 1L), (outcome.Stats.Totals.Input, outcome.Stats.Totals.Kept, outcome.Stats.Totals.Rejected));
    }

    [Fact]
    public async Task A_20_MB_single_line_is_rejected_by_the_size_limit_and_the_next_line_is_kept()
    {
        string huge = Chat("Why?", new string('a', 20 * 1024 * 1024));
        string path = _h.AddText("huge.jsonl", huge + "\n" + Chat("Does the lock log failed attempts?", "Yes, in the Activity tab.") + "\n");

        var outcome = await _h.RunAsync(NoValidation, paths: path);

        Assert.Equal("record_too_large", outcome.ReasonAt(path, 1));
        Assert.Contains($"{huge.Length} bytes", outcome.Reject(path, 1).GetProperty("message").GetString());
        Assert.Single(outcome.Train);
    }

    [Fact]
    public async Task A_20_MB_line_in_csv_transcript_and_document_inputs_is_rejected_too()
    {
        string line = new('b', 20 * 1024 * 1024);
        var paths = new[]
        {
            _h.AddText("big.csv", $"question,answer\n\"{line}\",x\nWhat colour options exist?,Black and brushed steel.\n"),
            _h.AddText("big.txt", $"Customer: {line}\nAgent: ok\n\nCustomer: Is there a keypad light?\nAgent: Yes, it lights up when touched.\n"),
            _h.AddText("big.md", $"# Notes\n\n{line}\n\nThe keypad is backlit.\n"),
        };

        var outcome = await _h.RunAsync(NoValidation, paths: paths);

        Assert.Equal("record_too_large", outcome.ReasonAt(paths[0], 2));
        Assert.Equal("record_too_large", outcome.ReasonAt(paths[1], 1));
        Assert.Equal("record_too_large", outcome.ReasonAt(paths[2], 3));
        Assert.Contains("Black and brushed steel.", outcome.KeptContents());
        Assert.Contains("Yes, it lights up when touched.", outcome.KeptContents());
        Assert.Contains(outcome.KeptContents(), c => c.Contains("The keypad is backlit."));
        Assert.True(outcome.Stats.AccountingHolds);
    }

    [Fact]
    public async Task An_empty_file_has_zero_records_and_still_appears_in_stats_and_manifest()
    {
        var path = _h.AddFixtures("empty.jsonl")[0];
        var outcome = await _h.RunAsync(NoValidation, paths: path);

        Assert.Equal(0, outcome.Stats.Totals.Input);
        Assert.Equal(path, outcome.Stats.Files.Single().Path);
        string manifest = File.ReadAllText(Path.Combine(outcome.Root, "manifest.json"));
        Assert.Contains("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", manifest); // SHA-256 of nothing
        Assert.Equal("", File.ReadAllText(Path.Combine(outcome.Root, "train.jsonl")));
    }

    [Fact]
    public async Task A_file_is_read_for_what_it_contains_not_what_its_extension_says()
    {
        string csvNamedJsonl = _h.AddFixtures("actually_faq.jsonl")[0];
        string jsonlNamedTxt = _h.AddText("export.txt", Chat("Can I change the beep volume?", "Yes, in Settings > Sound.") + "\n");
        string binaryNamedJsonl = _h.AddBytes("photo.jsonl", [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, 0x49, 0x48, 0x44, 0x52]);
        string textNamedParquet = _h.AddText("notes.parquet", "Customer: Is the parquet floor ok?\nAgent: The lock does not care about floors.\n");

        var outcome = await _h.RunAsync(NoValidation, paths: [csvNamedJsonl, jsonlNamedTxt, binaryNamedJsonl, textNamedParquet]);

        Assert.Equal(new[] { "csv", "jsonl", "unrecognized", "transcript" }, outcome.Stats.Files.Select(f => f.Format));
        Assert.Contains("Partly: Bluetooth unlock works, remote unlock does not.", outcome.KeptContents());
        Assert.Contains("Yes, in Settings > Sound.", outcome.KeptContents());
        Assert.Equal("unrecognized_format", outcome.ReasonAt(binaryNamedJsonl, 1));
        Assert.Contains("The lock does not care about floors.", outcome.KeptContents());
    }

    [Fact]
    public async Task A_csv_quote_left_open_is_reported_at_the_line_where_the_record_starts()
    {
        var path = _h.AddFixtures("unterminated.csv")[0];
        var outcome = await _h.RunAsync(NoValidation, paths: path);

        Assert.Equal("unterminated_quote", outcome.ReasonAt(path, 2));
        Assert.Equal(1, outcome.Stats.Totals.Input);
    }

    [Fact]
    public async Task Forcing_a_format_overrides_detection()
    {
        string path = _h.AddText("data.txt", "Customer: Hi\nAgent: Hello, how can I help?\n");
        var outcome = await _h.RunAsync(NoValidation with { Format = InputFormat.Jsonl }, paths: path);

        Assert.Equal("invalid_json", outcome.ReasonAt(path, 1));
        Assert.Equal("invalid_json", outcome.ReasonAt(path, 2));
    }

    [Fact]
    public async Task A_missing_input_fails_the_run_naming_the_file_and_leaves_no_outputs()
    {
        var error = await Assert.ThrowsAsync<ServerlessTune.Core.Storage.ArtifactNotFoundException>(() => _h.RunAsync(NoValidation, paths: "datasets/acme/nope.jsonl"));
        Assert.Contains("datasets/acme/nope.jsonl", error.Message);
        Assert.False(Directory.Exists(Path.Combine(_h.Root, "prepared", "run1")) && Directory.EnumerateFiles(Path.Combine(_h.Root, "prepared", "run1")).Any());
    }
}
