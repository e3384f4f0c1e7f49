using System.Text;
using System.Text.Json;
using ServerlessTune.Core.Data;

namespace ServerlessTune.Core.Tests.Data;

/// <summary>
/// A generated corpus holding every kind of secret and the personal-data spellings that used to slip through, spread
/// over chat JSONL, a CSV, a transcript and a document: nothing of them may reach train, validation, rejects or stats.
/// </summary>
public sealed class PrepareSecretsTests : IDisposable
{
    readonly PrepareHarness _h = new();
    public void Dispose() => _h.Dispose();

    static string Json(string text) => JsonSerializer.Serialize(text);

    static string Quoted(string text) => "\"" + text.Replace("\"", "\"\"") + "\"";

    (List<SecretCorpus.Sample> Samples, string[] Paths) WriteCorpus()
    {
        var samples = Enumerable.Range(0, 3).SelectMany(seed => new SecretCorpus(100 + seed).Secrets()).Concat(SecretCorpus.PersonalData()).ToList();
        var chat = new StringBuilder();
        var csv = new StringBuilder("question,answer\n");
        var transcript = new StringBuilder();
        var document = new StringBuilder("# Notes from the support desk\n\n");
        for (int i = 0; i < samples.Count; i++)
        {
            string text = samples[i].Text;
            chat.Append($$"""{"messages":[{"role":"user","content":{{Json($"Ticket {i}: {text}")}}},{"role":"assistant","content":{{Json($"Noted for ticket {i}; I copied it here: {text}")}}}]}""").Append('\n');
            csv.Append(Quoted($"Case {i}: {text}")).Append(',').Append(Quoted($"Answer {i}: please rotate it.")).Append('\n');
            transcript.Append($"Customer: Call {i}. {text}\nAgent: Thanks, call {i} is logged.\n\n");
            document.Append($"Entry {i} says: {text}\n\n");
        }
        // Rejected records must not quote a secret either: one as an unknown key, one as an unknown role.
        chat.Append($$"""{"messages":[{"role":"user","content":"hi",{{Json(samples[0].Secret)}}:1},{"role":"assistant","content":"ok"}]}""").Append('\n');
        chat.Append($$"""{"messages":[{"role":{{Json(samples[4].Secret)}},"content":"hi"},{"role":"assistant","content":"ok"}]}""").Append('\n');
        return (samples, [
            _h.AddText("chat.jsonl", chat.ToString()), _h.AddText("tickets.csv", csv.ToString()),
            _h.AddText("calls.txt", transcript.ToString()), _h.AddText("notes.md", document.ToString()),
        ]);
    }

    string Outputs(PrepareOutcome outcome) =>
        string.Concat(Directory.GetFiles(outcome.Root).Select(File.ReadAllText));

    [Fact]
    public async Task Every_kind_is_redacted_to_its_placeholder_and_none_is_left_in_any_output()
    {
        var (samples, paths) = WriteCorpus();

        var outcome = await _h.RunAsync(new PrepareOptions { ValidationFraction = 0.3, Deduplicate = false, PassageChars = 400 }, paths: paths);

        Assert.True(outcome.Stats.AccountingHolds);
        Assert.NotEmpty(outcome.Validation);
        string written = Outputs(outcome);
        foreach (var sample in samples)
            foreach (var piece in sample.Secret.Split('\n'))
                Assert.False(written.Contains(piece, StringComparison.Ordinal), $"{sample.Placeholder} left in the outputs: {piece}");
        var secrets = outcome.Stats.Stages.Redact.Secrets;
        Assert.Equal("redact", secrets.Policy);
        foreach (var kind in samples.Select(s => s.Placeholder[1..^1]).Distinct())
        {
            // Each sample is in two chat turns, a CSV row, a transcript turn and a document paragraph.
            long expected = 5L * samples.Count(s => s.Placeholder[1..^1] == kind);
            long counted = secrets.Counts.TryGetValue(kind, out var n) ? n : outcome.Stats.Stages.Redact.Counts[kind];
            Assert.True(counted >= expected, $"{kind}: {counted} redacted, expected at least {expected}");
        }
        Assert.Contains(outcome.KeptContents(), c => c.Contains("[PRIVATE_KEY]") && c.Contains("thanks"));
        Assert.Equal(new[] { "unrecognized_key", "unrecognized_role" }, outcome.Rejects.Select(r => r.GetProperty("reason").GetString()).Order());
    }

    [Fact]
    public async Task With_secrets_reject_every_record_holding_one_is_rejected_and_the_rejects_name_only_the_kind()
    {
        var (samples, paths) = WriteCorpus();

        var outcome = await _h.RunAsync(new PrepareOptions { ValidationFraction = 0, Deduplicate = false, PassageChars = 400, Secrets = SecretPolicy.Reject }, paths: paths);

        Assert.True(outcome.Stats.AccountingHolds);
        string written = Outputs(outcome);
        foreach (var sample in samples)
            foreach (var piece in sample.Secret.Split('\n'))
                Assert.False(written.Contains(piece, StringComparison.Ordinal), $"{sample.Placeholder} left in the outputs: {piece}");
        var secretRejects = outcome.Rejects.Where(r => r.GetProperty("reason").GetString() == "secret").ToList();
        int secretSamples = samples.Count(s => s.Placeholder is not ("[PHONE]" or "[CARD]" or "[EMAIL]"));
        Assert.True(secretRejects.Count >= 3 * secretSamples, $"{secretRejects.Count} secret rejects for {secretSamples} secrets");
        Assert.Contains(secretRejects, r => r.GetProperty("message").GetString()!.Contains("holds GITHUB_TOKEN"));
        Assert.Equal(secretRejects.Count, outcome.Stats.Reasons["secret"]);
        // Records with personal data only are kept, redacted.
        Assert.Contains(outcome.KeptContents(), c => c.Contains("[PHONE]"));
        Assert.DoesNotContain(outcome.KeptContents(), c => c.Contains("[OPENAI_KEY]") || c.Contains("[PASSWORD]"));
    }
}
