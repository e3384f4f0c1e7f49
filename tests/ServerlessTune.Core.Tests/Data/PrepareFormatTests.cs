using System.Text.Json;
using ServerlessTune.Core.Data;

namespace ServerlessTune.Core.Tests.Data;

/// <summary>Each input format end to end through the real service, asserting what is kept and what is rejected where.</summary>
public sealed class PrepareFormatTests : IDisposable
{
    readonly PrepareHarness _h = new();
    public void Dispose() => _h.Dispose();

    static PrepareOptions NoValidation => new() { ValidationFraction = 0 };

    static List<(string Role, string Content)> Messages(JsonElement record) => record.GetProperty("messages").EnumerateArray()
        .Select(m => (m.GetProperty("role").GetString()!, m.GetProperty("content").GetString()!)).ToList();

    [Fact]
    public async Task Chat_jsonl_keeps_valid_conversations_with_weights_and_names_every_reject_reason()
    {
        var path = _h.AddFixtures("chat.jsonl")[0];
        var outcome = await _h.RunAsync(NoValidation, paths: path);

        var totals = outcome.Stats.Totals;
        Assert.Equal((19L, 3L, 14L, 2L, 0L), (totals.Input, totals.Kept, totals.Rejected, totals.Deduplicated, totals.Filtered));
        Assert.True(outcome.Stats.AccountingHolds);
        var expected = new Dictionary<long, string>
        {
            [4] = "invalid_json", [5] = "not_an_object", [6] = "missing_messages", [7] = "missing_messages",
            [8] = "message_not_an_object", [9] = "message_missing_role", [10] = "message_missing_content",
            [11] = "content_not_a_string", [12] = "unrecognized_role", [13] = "unrecognized_key", [14] = "invalid_weight",
            [15] = "no_assistant_message", [16] = "empty_content", [17] = "duplicate", [18] = "near_duplicate", [19] = "missing_messages",
        };
        foreach (var (line, reason) in expected) Assert.Equal(reason, outcome.ReasonAt(path, line));
        Assert.Equal(expected.Count, outcome.Rejects.Count);
        Assert.Contains("datasets/acme/chat.jsonl:3", outcome.Reject(path, 17).GetProperty("message").GetString());

        var second = outcome.Train[1].GetProperty("messages");
        Assert.Equal(1, second[1].GetProperty("weight").GetInt32());
        Assert.Equal(0, second[3].GetProperty("weight").GetInt32());
        Assert.Equal("system", Messages(outcome.Train[0])[0].Role);
    }

    [Fact]
    public async Task Prompt_completion_pairs_become_user_and_assistant_turns_without_the_legacy_separator()
    {
        var path = _h.AddFixtures("prompt_completion.jsonl")[0];
        var outcome = await _h.RunAsync(NoValidation, paths: path);

        Assert.Equal(2, outcome.Train.Count);
        Assert.Equal(new[] { ("user", "What is the warranty on the Haldor S2?"), ("assistant", "Two years from the date of purchase, covering the motor and the keypad.") },
            Messages(outcome.Train[0]));
        Assert.Equal("message_missing_content", outcome.ReasonAt(path, 3));
    }

    [Fact]
    public async Task Csv_with_bom_crlf_quoted_commas_quotes_and_newlines_keeps_the_rows_and_reports_the_start_line()
    {
        var path = _h.AddFixtures("faq.csv")[0];
        var outcome = await _h.RunAsync(NoValidation, paths: path);

        Assert.Equal(3, outcome.Train.Count);
        Assert.Equal(new[] {
            ("user", "How do I reset the lock, fully?"),
            ("assistant", "Remove the battery cover, then hold the reset button for 10 seconds.\nThe lock will say \"factory reset\" when done."),
        }, Messages(outcome.Train[0]));
        Assert.Equal("Why does the app say \"offline\"?", Messages(outcome.Train[2])[0].Content);
        Assert.Equal("missing_column", outcome.ReasonAt(path, 5));
        Assert.Single(outcome.Rejects);
        Assert.Equal("csv", outcome.Stats.Files[0].Format);
    }

    [Fact]
    public async Task Tsv_and_json_array_faqs_are_read_with_line_numbers_and_html_stripped()
    {
        var paths = _h.AddFixtures("faq.tsv", "faq.json");
        var outcome = await _h.RunAsync(NoValidation, paths: paths);

        Assert.Equal(2, outcome.Stats.Files[0].Counts.Kept);
        Assert.Equal(2, outcome.Stats.Files[1].Counts.Kept);
        Assert.Contains("Yes, but the low-battery warning comes later; check the app weekly.", outcome.KeptContents());
        Assert.Contains("Yes: the Activity tab lists every unlock with the user and time.\nEntries are kept for 90 days.", outcome.KeptContents());
        Assert.Equal("message_missing_content", outcome.ReasonAt(paths[1], 5));
        Assert.Equal("not_an_object", outcome.ReasonAt(paths[1], 6));
    }

    [Fact]
    public async Task Transcripts_split_on_blank_lines_map_speakers_and_reject_unlabelled_or_unanswered_conversations()
    {
        var path = _h.AddFixtures("transcripts.txt")[0];
        var outcome = await _h.RunAsync(NoValidation, paths: path);

        Assert.Equal("transcript", outcome.Stats.Files[0].Format);
        Assert.Equal(2, outcome.Train.Count);
        Assert.Equal(new[] {
            ("user", "Hi, my keypad stopped lighting up this morning."),
            ("assistant", "Sorry to hear that! Is the lock still opening with the app?"),
            ("user", "Yes, the app works."),
            ("assistant", "Then the keypad cable may be loose. Remove the inside cover and reseat the ribbon cable.\nIt clicks into place when it is seated."),
        }, Messages(outcome.Train[0]));
        Assert.Equal("missing_speaker_label", outcome.ReasonAt(path, 10));
        Assert.Equal("no_assistant_message", outcome.ReasonAt(path, 13));
        Assert.Equal("user", Messages(outcome.Train[1])[0].Role);
    }

    [Fact]
    public async Task Transcripts_with_separator_lines_keep_blank_lines_inside_a_turn()
    {
        var path = _h.AddFixtures("transcripts_separated.txt")[0];
        var outcome = await _h.RunAsync(NoValidation, paths: path);

        Assert.Equal(2, outcome.Train.Count);
        Assert.Equal("Open the app and go to Settings > Firmware. The update takes about 4 minutes.\n\nKeep the phone near the lock while it runs.",
            Messages(outcome.Train[0])[1].Content);
    }

    [Fact]
    public async Task Documents_become_passages_marked_as_such_with_code_blocks_intact()
    {
        var path = _h.AddFixtures("guide.md")[0];
        var whole = await _h.RunAsync(NoValidation, paths: path);
        var passage = Assert.Single(whole.Train);
        Assert.Equal("passage", passage.GetProperty("kind").GetString());
        string text = Messages(passage)[0].Content;
        Assert.Contains("```json\n{\n  \"autoLock\":   true,\n\n  \"autoLockDelaySeconds\": 30\n}\n```", text);
        Assert.Contains("without pushing or lifting", text);

        var cut = await _h.RunAsync(NoValidation with { PassageChars = 150 }, "run2", path);
        Assert.True(cut.Train.Count >= 3, $"expected several passages, got {cut.Train.Count}");
        Assert.All(cut.Train, p => Assert.Equal("passage", p.GetProperty("kind").GetString()));
        // Cuts fall on paragraph breaks, so the fenced block is whole in one passage.
        Assert.Single(cut.KeptContents(), c => c.Contains("```json") && c.Contains("\"autoLockDelaySeconds\": 30\n}\n```"));
    }

    [Fact]
    public async Task Documents_become_question_answer_pairs_only_when_asked_and_a_pasted_key_is_never_cut()
    {
        string body = string.Join("\n", Enumerable.Range(0, 12).Select(i => "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7" + i.ToString("D2")));
        var path = _h.AddText("policy.md", "# Harbor Fiber policy\n\nOur routers stay ours.\n\n## How do I return the router?\n\nPack it in its box and drop it at any post office.\n"
            + "The label is in the app.\n\n## Equipment\n\nWe replace a faulty router for free.\n\n## What if I lose it?\n\nThe fee is 80 EUR.\n\n"
            + $"Ops notes:\n-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n");

        var text = await _h.RunAsync(NoValidation with { PassageChars = 200 }, paths: path);
        Assert.All(text.Train, r => Assert.Equal("passage", r.GetProperty("kind").GetString()));
        Assert.DoesNotContain(text.KeptContents(), c => c.Contains("MIIEvQ"));
        Assert.Contains(text.KeptContents(), c => c.Contains("[PRIVATE_KEY]"));

        var qa = await _h.RunAsync(NoValidation with { PassageChars = 200, Documents = DocumentMode.Qa }, "run2", path);
        var pairs = qa.Train.Where(r => !r.TryGetProperty("kind", out _)).Select(Messages).ToList();
        Assert.Equal(2, pairs.Count);
        Assert.Equal([("user", "How do I return the router?"), ("assistant", "Pack it in its box and drop it at any post office.\nThe label is in the app.")], pairs[0]);
        Assert.Equal([("user", "What if I lose it?"), ("assistant", "The fee is 80 EUR.\n\nOps notes:\n[PRIVATE_KEY]")], pairs[1]);
        Assert.Contains(qa.KeptContents(), c => c.Contains("Our routers stay ours."));
        Assert.Contains(qa.KeptContents(), c => c.Contains("We replace a faulty router for free."));
        Assert.Equal("question headings as pairs, the rest as passages", qa.Stats.Files[0].Mapping!.Decided);
    }

    [Fact]
    public async Task Parquet_with_a_messages_column_or_prompt_completion_columns_is_read_row_by_row()
    {
        _h.AddBytes("hf/train-00000.parquet", await PrepareHarness.MessagesParquetAsync(
            [("user", "Does the S2 have a key backup?"), ("assistant", "Yes, a physical key cylinder sits under the keypad cover.")],
            [("user", "Hello?")]));
        var pairs = new[] { new PromptRow { prompt = "Is the bridge required?", completion = "Only for remote access." } };
        using (var file = new MemoryStream())
        {
            await Parquet.Serialization.ParquetSerializer.SerializeAsync(pairs, file);
            _h.AddBytes("hf/pairs.parquet", file.ToArray());
        }

        var outcome = await _h.RunAsync(NoValidation, paths: ["datasets/acme/hf/train-00000.parquet", "datasets/acme/hf/pairs.parquet"]);

        Assert.Equal("parquet", outcome.Stats.Files[0].Format);
        Assert.Equal(new[] { ("user", "Does the S2 have a key backup?"), ("assistant", "Yes, a physical key cylinder sits under the keypad cover.") },
            Messages(outcome.Train[0]));
        Assert.Equal("no_assistant_message", outcome.ReasonAt("datasets/acme/hf/train-00000.parquet", 2));
        Assert.Equal(new[] { ("user", "Is the bridge required?"), ("assistant", "Only for remote access.") }, Messages(outcome.Train[1]));
    }

    public sealed class PromptRow
    {
        public string prompt { get; set; } = "";
        public string completion { get; set; } = "";
    }
}
