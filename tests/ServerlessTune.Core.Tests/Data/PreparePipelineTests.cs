using System.Text.Json;
using ServerlessTune.Core.Chat;
using ServerlessTune.Core.Data;
using ServerlessTune.Core.Tokenization;

namespace ServerlessTune.Core.Tests.Data;

/// <summary>Whole-run properties: token accounting, limits, redaction switch, split stability, determinism, artifacts.</summary>
public sealed class PreparePipelineTests : IDisposable
{
    readonly PrepareHarness _h = new();
    public void Dispose() => _h.Dispose();

    static readonly string[] AllFixtures =
        ["chat.jsonl", "prompt_completion.jsonl", "faq.csv", "faq.tsv", "faq.json", "transcripts.txt", "transcripts_separated.txt", "guide.md", "empty.jsonl", "actually_faq.jsonl", "unterminated.csv"];

    static List<ChatMessage> Messages(JsonElement record) => record.GetProperty("messages").EnumerateArray()
        .Select(m => new ChatMessage(m.GetProperty("role").GetString()!, m.GetProperty("content").GetString()!,
            m.TryGetProperty("weight", out var w) ? w.GetInt32() : null)).ToList();

    static string Chat(int i, string answer) =>
        $"{{\"messages\":[{{\"role\":\"user\",\"content\":\"Question {i} about lock model {i * 7919 % 1000}?\"}},{{\"role\":\"assistant\",\"content\":\"{answer} (case {i})\"}}]}}";

    [Fact]
    public async Task Token_statistics_match_the_chat_template_encoding_of_the_written_records()
    {
        var paths = _h.AddFixtures("chat.jsonl", "faq.csv", "guide.md");
        var outcome = await _h.RunAsync(new PrepareOptions { ValidationFraction = 0.3, Seed = 7 }, paths: paths);

        var tokenizer = TokenizerLoader.Load("gpt2");
        var template = ChatTemplates.ByName("chatml", tokenizer);
        int Count(JsonElement r) => r.TryGetProperty("kind", out _)
            ? tokenizer.CountTokens(Messages(r)[0].Content) + 1
            : template.Encode(Messages(r), addGenerationPrompt: false).Ids.Length;
        var train = outcome.Train.Select(Count).ToList();
        var validation = outcome.Validation.Select(Count).ToList();

        var tokens = outcome.Stats.Tokens;
        Assert.Equal(train.Sum(), tokens.Train.Total);
        Assert.Equal(validation.Sum(), tokens.Validation.Total);
        Assert.Equal(train.Sum(), tokens.TrainTokensPerEpoch);
        Assert.Equal(train.Count + validation.Count, tokens.All.Records);
        Assert.Equal(train.Concat(validation).Max(), tokens.All.Max);
        var sorted = train.Concat(validation).Order().ToList();
        Assert.Equal(sorted[(int)Math.Ceiling(0.5 * sorted.Count) - 1], tokens.All.P50);
        Assert.InRange(tokens.TrainTrainedTokensPerEpoch, 1, tokens.TrainTokensPerEpoch - 1);
        Assert.Equal(Math.Round((double)sorted.Sum() / sorted.Count, 2), tokens.All.Mean);
        Assert.Equal("gpt2", outcome.Stats.Stages.Tokenise.Tokenizer);
        Assert.Equal("chatml", outcome.Stats.Stages.Tokenise.Template);
    }

    [Fact]
    public async Task Records_over_the_token_limit_are_dropped_or_truncated_by_policy()
    {
        string longTurns = "{\"messages\":[{\"role\":\"user\",\"content\":\"Short question?\"},{\"role\":\"assistant\",\"content\":\"Short answer.\"}," +
            "{\"role\":\"user\",\"content\":\"" + string.Join(' ', Enumerable.Repeat("Please explain every setting of the lock in detail.", 20)) + "\"}," +
            "{\"role\":\"assistant\",\"content\":\"" + string.Join(' ', Enumerable.Repeat("Here is one more setting you can change.", 20)) + "\"}]}";
        string path = _h.AddText("long.jsonl", longTurns + "\n");
        string doc = _h.AddText("manual.md", string.Join(' ', Enumerable.Repeat("The Haldor S2 motor turns the bolt in under a second.", 40)));

        var dropped = await _h.RunAsync(new PrepareOptions { MaxTokens = 64, ValidationFraction = 0 }, "drop", path, doc);
        Assert.Equal("too_many_tokens", dropped.ReasonAt(path, 1));
        Assert.Equal("too_many_tokens", dropped.ReasonAt(doc, 1));
        Assert.Equal(2, dropped.Stats.Totals.Filtered);
        Assert.Equal(0, dropped.Stats.Totals.Rejected);

        var truncated = await _h.RunAsync(new PrepareOptions { MaxTokens = 64, ValidationFraction = 0, OverLimit = OverLimitPolicy.Truncate }, "cut", path, doc);
        Assert.Equal(2, truncated.Train.Count);
        Assert.Equal(new[] { "Short question?", "Short answer." }, Messages(truncated.Train[0]).Select(m => m.Content));
        Assert.Equal(2, truncated.Stats.Stages.Tokenise.Truncated);
        Assert.Equal(64, truncated.Stats.Tokens.All.Max);
        Assert.StartsWith("The Haldor S2 motor turns the bolt", Messages(truncated.Train[1])[0].Content);
    }

    [Fact]
    public async Task Redaction_is_counted_per_type_and_can_be_switched_off()
    {
        string path = _h.AddText("pii.jsonl",
            "{\"messages\":[{\"role\":\"user\",\"content\":\"I'm jane@example.com, call +44 20 7946 0958. Order #100234567.\"},{\"role\":\"assistant\",\"content\":\"Thanks, we refunded card 4111 1111 1111 1111.\"}]}\n");

        var redacted = await _h.RunAsync(new PrepareOptions { ValidationFraction = 0 }, "on", path);
        Assert.Equal("I'm [EMAIL], call [PHONE]. Order #100234567.", Messages(redacted.Train[0])[0].Content);
        Assert.Equal("Thanks, we refunded card [CARD].", Messages(redacted.Train[0])[1].Content);
        var counts = redacted.Stats.Stages.Redact.Counts;
        Assert.Equal((1L, 1L, 1L, 0L), (counts["EMAIL"], counts["PHONE"], counts["CARD"], counts["IBAN"]));
        Assert.Equal(1, redacted.Stats.Stages.Redact.RecordsWithPii);

        var kept = await _h.RunAsync(new PrepareOptions { ValidationFraction = 0, Redact = false }, "off", path);
        Assert.Contains("jane@example.com", Messages(kept.Train[0])[0].Content);
        Assert.All(kept.Stats.Stages.Redact.Counts.Values, c => Assert.Equal(0, c));
    }

    [Fact]
    public async Task Adding_data_never_moves_a_record_between_splits_and_the_seed_changes_the_split()
    {
        string first = _h.AddText("a.jsonl", string.Concat(Enumerable.Range(0, 200).Select(i => Chat(i, "Reset the bridge.") + "\n")));
        var before = await _h.RunAsync(new PrepareOptions { ValidationFraction = 0.25 }, "before", first);
        string second = _h.AddText("b.jsonl", string.Concat(Enumerable.Range(200, 200).Select(i => Chat(i, "Reset the bridge.") + "\n")));
        var after = await _h.RunAsync(new PrepareOptions { ValidationFraction = 0.25 }, "after", second, first);
        var reseeded = await _h.RunAsync(new PrepareOptions { ValidationFraction = 0.25, Seed = 43 }, "reseeded", first);

        var validationBefore = before.Validation.Select(r => r.GetRawText()).ToHashSet();
        var validationAfter = after.Validation.Select(r => r.GetRawText()).ToHashSet();
        var trainAfter = after.Train.Select(r => r.GetRawText()).ToHashSet();
        Assert.InRange(validationBefore.Count, 30, 70);
        Assert.Subset(validationAfter, validationBefore);
        Assert.Subset(trainAfter, before.Train.Select(r => r.GetRawText()).ToHashSet());
        Assert.NotEqual(validationBefore, reseeded.Validation.Select(r => r.GetRawText()).ToHashSet());
        Assert.Equal(200, before.Stats.Totals.Kept);
    }

    [Fact]
    public async Task Two_runs_over_the_same_inputs_are_byte_identical()
    {
        var paths = _h.AddFixtures(AllFixtures);
        var options = new PrepareOptions { ValidationFraction = 0.3, Seed = 11 };
        var one = await _h.RunAsync(options, "one", paths);
        var two = await _h.RunAsync(options, "two", paths);

        foreach (string file in new[] { "train.jsonl", "validation.jsonl", "rejects.jsonl", "stats.json", "manifest.json" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(one.Root, file)), File.ReadAllBytes(Path.Combine(two.Root, file)));
        Assert.NotEmpty(one.Train);
        Assert.NotEmpty(one.Validation);
    }

    [Fact]
    public async Task Stats_prove_the_accounting_per_file_and_the_manifest_hashes_inputs_and_outputs()
    {
        var paths = _h.AddFixtures(AllFixtures);
        var outcome = await _h.RunAsync(new PrepareOptions(), paths: paths);
        var stats = outcome.Stats;

        Assert.True(stats.AccountingHolds);
        foreach (var file in stats.Files)
            Assert.Equal(file.Counts.Input, file.Counts.Kept + file.Counts.Rejected + file.Counts.Deduplicated + file.Counts.Filtered);
        Assert.Equal(stats.Files.Sum(f => f.Counts.Input), stats.Totals.Input);
        Assert.Equal(outcome.Rejects.Count, stats.Totals.Rejected + stats.Totals.Deduplicated + stats.Totals.Filtered);
        Assert.Equal(outcome.Rejects.Count, stats.Reasons.Values.Sum());
        Assert.Equal(outcome.Train.Count, stats.Totals.Train);
        Assert.Equal(outcome.Validation.Count, stats.Totals.Validation);

        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(outcome.Root, "manifest.json")));
        Assert.Equal(stats.DatasetVersion, manifest.RootElement.GetProperty("datasetVersion").GetString());
        var chat = manifest.RootElement.GetProperty("inputs").EnumerateArray().Single(i => i.GetProperty("path").GetString() == "datasets/acme/chat.jsonl");
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(PrepareHarness.FixturePath("chat.jsonl")))),
            chat.GetProperty("sha256").GetString());
        var train = manifest.RootElement.GetProperty("outputs").EnumerateArray().Single(o => o.GetProperty("path").GetString() == "train.jsonl");
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(Path.Combine(outcome.Root, "train.jsonl")))),
            train.GetProperty("sha256").GetString());

        var changed = await _h.RunAsync(new PrepareOptions { Seed = 1 }, "seed1", paths);
        Assert.NotEqual(stats.DatasetVersion, changed.Stats.DatasetVersion);
    }

    [Fact]
    public async Task The_pipeline_reads_every_data_file_under_a_dataset_prefix()
    {
        _h.AddFixtures("faq.csv", "faq.tsv");
        _h.AddText("pipeline.json", "{}");
        var request = await PrepareRequest.FromStorePrefixAsync(_h.Store, "datasets/acme/", "prepared/r9/", new PrepareOptions());
        Assert.Equal(new[] { "datasets/acme/faq.csv", "datasets/acme/faq.tsv" }, request.Inputs.Select(i => i.Path));

        var stats = await DataPreparationService.RunAsync(request);
        Assert.Equal(5, stats.Totals.Kept);
        Assert.True(await _h.Store.ExistsAsync("prepared/r9/manifest.json"));
    }

    [Fact]
    public async Task Bad_options_are_refused_naming_the_flag()
    {
        var path = _h.AddFixtures("faq.csv")[0];
        var error = await Assert.ThrowsAsync<UserInputException>(() => _h.RunAsync(new PrepareOptions { ValidationFraction = 1.5 }, paths: path));
        Assert.Contains("--val-fraction", error.Message);
        var column = await Assert.ThrowsAsync<UserInputException>(() => _h.RunAsync(new PrepareOptions { Columns = new() { User = "Frage" } }, paths: path));
        Assert.Contains("datasets/acme/faq.csv", column.Message);
    }
}
