using System.Text;
using ServerlessTune.Core.Data;
using ServerlessTune.Core.Data.Parsing;

namespace ServerlessTune.Core.Tests.Data;

/// <summary>
/// Seeded fuzzing: random bytes and random mutations of valid fixture files and of the other conventions (ShareGPT,
/// Alpaca, TRL, Bitext-style tables, secrets, NUL bytes, keys given twice), plain or re-encoded in UTF-16/32 with a BOM,
/// under every extension. Whatever comes in, the run completes and every record is counted exactly once, or the run
/// is refused before any output with one line naming a file (two columns that fit one side equally).
/// </summary>
public sealed class PrepareFuzzTests : IDisposable
{
    readonly PrepareHarness _h = new();
    public void Dispose() => _h.Dispose();

    static readonly string[] Extensions = [".jsonl", ".json", ".csv", ".tsv", ".txt", ".md", ".parquet"];
    static readonly string[] Seeds = ["chat.jsonl", "prompt_completion.jsonl", "faq.csv", "faq.tsv", "faq.json", "transcripts.txt", "transcripts_separated.txt", "guide.md"];
    static readonly byte[] Interesting = "\"{}[],:\n\r\t\\<>&@#0123456789 \u00e9"u8.ToArray().Concat(new byte[] { 0, 0xC3, 0xFF, 0xEF, 0xBB, 0xBF, 0xFE }).ToArray();

    static readonly string[] Conventions =
    [
        """{"conversations":[{"from":"human","value":"Is the S2 waterproof?"},{"from":"gpt","value":"It is rated IP54."}]}""" + "\n"
            + """{"conversations":[{"from":"system","value":"Be brief."},{"from":"human","value":"Battery?"},{"from":"gpt","value":"Four AA."}]}""" + "\n",
        """[{"instruction":"Summarise.","input":"Returns are free for 30 days.","output":"Free returns."},{"instruction":"Greet.","input":"","output":"Hello!"}]""",
        """{"prompt":[{"role":"user","content":"Colour?"}],"completion":[{"role":"assistant","content":"White."}]}""" + "\n{\"text\":\"The lock locks itself.\"}\n",
        "flags,instruction,category,intent,response\nB,cancel order {{Order Number}},ORDER,cancel,\"Open Orders, then Cancel.\"\nBL,track my parcel,SHIPPING,track,Press Track.\n",
        "context,instruction,response\nSupport,How do I reset?,Hold the button.\nSupport,Ship abroad?,Yes.\n",
        """{"messages":[{"role":"user","content":"key sk-abcdefghijklmnopqrstuvwxyz0123456789ABCD and password=Hunter2!"},{"role":"assistant","content":"Revoked.","content":"x"}]}""" + "\n",
    ];

    static readonly System.Text.Encoding[] Wide = [new UnicodeEncoding(false, true), new UnicodeEncoding(true, true), new UTF32Encoding(false, true)];

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
        var plain = Seeds.Select(s => File.ReadAllBytes(PrepareHarness.FixturePath(s))).Concat(Conventions.Select(Encoding.UTF8.GetBytes)).ToList();
        var seedBytes = plain.Concat(plain.Take(6).Select((b, i) => (byte[])[.. Wide[i % Wide.Length].GetPreamble(), .. Wide[i % Wide.Length].GetBytes(Encoding.UTF8.GetString(b))]))
            .Append(parquet).ToArray();
        int completed = 0;
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

            PrepareOutcome outcome;
            try { outcome = await _h.RunAsync(options, $"fuzz{run}", [.. paths]); }
            catch (UserInputException refused)
            {
                Assert.DoesNotContain('\n', refused.Message);
                Assert.Contains(paths, p => refused.Message.StartsWith(p, StringComparison.Ordinal));
                Assert.False(File.Exists(Path.Combine(_h.Root, "prepared", $"fuzz{run}", "manifest.json")));
                continue;
            }

            var totals = outcome.Stats.Totals;
            Assert.True(outcome.Stats.AccountingHolds, $"run {run}");
            Assert.Equal(totals.Input, totals.Kept + totals.Rejected + totals.Deduplicated + totals.Filtered);
            Assert.Equal(totals.Kept, outcome.Train.Count + outcome.Validation.Count);
            Assert.Equal(totals.Rejected + totals.Deduplicated + totals.Filtered, outcome.Rejects.Count);
            Assert.All(outcome.Rejects, r => Assert.Contains(r.GetProperty("source").GetString(), paths));
            completed++;
        }
        Assert.True(completed >= 15, $"only {completed} of 25 runs got past their mapping");
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
