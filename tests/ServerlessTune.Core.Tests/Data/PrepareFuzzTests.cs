using System.Text;
using ServerlessTune.Core.Data;
using ServerlessTune.Core.Data.Parsing;

namespace ServerlessTune.Core.Tests.Data;

/// <summary>
/// Seeded fuzzing: random bytes and random mutations of valid fixture files, under every extension.
/// Whatever comes in, the run completes and every record is counted exactly once.
/// </summary>
public sealed class PrepareFuzzTests : IDisposable
{
    readonly PrepareHarness _h = new();
    public void Dispose() => _h.Dispose();

    static readonly string[] Extensions = [".jsonl", ".json", ".csv", ".tsv", ".txt", ".md", ".parquet"];
    static readonly string[] Seeds = ["chat.jsonl", "prompt_completion.jsonl", "faq.csv", "faq.tsv", "faq.json", "transcripts.txt", "transcripts_separated.txt", "guide.md"];
    static readonly byte[] Interesting = "\"{}[],:\n\r\t\\<>&@#0123456789 \u00e9"u8.ToArray().Concat(new byte[] { 0, 0xC3, 0xFF, 0xEF, 0xBB, 0xBF }).ToArray();

    static byte[] Mutate(byte[] input, Random random)
    {
        var bytes = new List<byte>(input);
        int edits = random.Next(1, 12);
        for (int e = 0; e < edits; e++)
        {
            int at = bytes.Count == 0 ? 0 : random.Next(bytes.Count);
            switch (random.Next(5))
            {
                case 0 when bytes.Count > 0: bytes[at] = (byte)random.Next(256); break;
                case 1: bytes.Insert(at, Interesting[random.Next(Interesting.Length)]); break;
                case 2 when bytes.Count > 0: bytes.RemoveRange(at, Math.Min(bytes.Count - at, random.Next(1, 40))); break;
                case 3 when bytes.Count > 0:
                    int length = Math.Min(bytes.Count - at, random.Next(1, 200));
                    bytes.InsertRange(random.Next(bytes.Count), bytes.GetRange(at, length));
                    break;
                default: bytes.Insert(at, (byte)random.Next(256)); break;
            }
        }
        return [.. bytes];
    }

    [Fact]
    public async Task Random_bytes_and_mutated_records_never_throw_and_always_balance()
    {
        var random = new Random(20261124);
        var parquet = await PrepareHarness.MessagesParquetAsync(
            [("user", "Can the lock be rekeyed?"), ("assistant", "Yes, any locksmith can rekey the backup cylinder.")],
            [("system", "Be brief."), ("user", "Battery type?"), ("assistant", "Four AA.")]);
        var seedBytes = Seeds.Select(s => File.ReadAllBytes(PrepareHarness.FixturePath(s))).Append(parquet).ToArray();
        for (int run = 0; run < 25; run++)
        {
            var paths = new List<string>();
            for (int i = 0; i < 12; i++)
            {
                byte[] bytes = random.Next(4) == 0
                    ? Enumerable.Range(0, random.Next(0, 3000)).Select(_ => (byte)random.Next(256)).ToArray()
                    : Mutate(seedBytes[random.Next(seedBytes.Length)], random);
                paths.Add(_h.AddBytes($"fuzz{run}/f{i}{Extensions[random.Next(Extensions.Length)]}", bytes));
            }
            var options = new PrepareOptions { MaxTokens = random.Next(2) == 0 ? 2048 : 40, OverLimit = (OverLimitPolicy)random.Next(2), MaxRecordBytes = 1024 + random.Next(4096) };

            var outcome = await _h.RunAsync(options, $"fuzz{run}", [.. paths]);

            var totals = outcome.Stats.Totals;
            Assert.True(outcome.Stats.AccountingHolds, $"run {run}");
            Assert.Equal(totals.Input, totals.Kept + totals.Rejected + totals.Deduplicated + totals.Filtered);
            Assert.Equal(totals.Kept, outcome.Train.Count + outcome.Validation.Count);
            Assert.Equal(totals.Rejected + totals.Deduplicated + totals.Filtered, outcome.Rejects.Count);
            Assert.All(outcome.Rejects, r => Assert.Contains(r.GetProperty("source").GetString(), paths));
        }
    }

    [Fact]
    public void Thousands_of_mutated_json_lines_parse_to_a_conversation_or_a_named_reason()
    {
        var random = new Random(7);
        var lines = File.ReadAllLines(PrepareHarness.FixturePath("chat.jsonl")).Select(Encoding.UTF8.GetBytes).ToArray();
        var reasons = typeof(RejectReason).GetFields().Select(f => (string)f.GetValue(null)!).ToHashSet();
        for (int i = 0; i < 3000; i++)
        {
            var outcome = new JsonRecord(1, Mutate(lines[random.Next(lines.Length)], random)).Parse();
            Assert.True(outcome.Conversation is not null ^ outcome.Rejection is not null);
            if (outcome.Rejection is { } rejection) Assert.Contains(rejection.Reason, reasons);
        }
    }
}
