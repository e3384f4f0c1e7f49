using ServerlessTune.Core.Data;

namespace ServerlessTune.Core.Tests.Data;

/// <summary>One run whose inputs trigger every reason code there is, each at a known place.</summary>
public sealed class PrepareRejectReasonTests : IDisposable
{
    readonly PrepareHarness _h = new();
    public void Dispose() => _h.Dispose();

    [Fact]
    public async Task Every_reason_code_is_produced_and_named_with_its_file_and_line()
    {
        var fixtures = _h.AddFixtures("chat.jsonl", "faq.csv", "unterminated.csv", "transcripts.txt");
        string utf8 = _h.AddBytes("broken.jsonl", [.. "{\"messages\":\"caf"u8.ToArray(), 0xE9, .. "\"}\n"u8.ToArray()]);
        string large = _h.AddText("large.jsonl", "{\"prompt\":\"" + new string('x', 5000) + "\",\"completion\":\"y\"}\n");
        string binary = _h.AddBytes("blob.bin", [0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0, 0, 0, 0, 0]);
        string parquet = _h.AddText("broken.parquet", "PAR1 this is not really parquet");
        string tokens = _h.AddText("essay.jsonl", "{\"prompt\":\"Tell me everything.\",\"completion\":\"" + string.Join(' ', Enumerable.Repeat("The lock is very secure.", 120)) + "\"}\n");
        string nul = _h.AddBytes("nul.jsonl", [.. "{\"prompt\":\"a\u0000b\",\"completion\":\"c\"}\n"u8.ToArray()]);
        string twice = _h.AddText("twice.jsonl", "{\"prompt\":\"Which battery?\",\"completion\":\"AA.\",\"completion\":\"AAA.\"}\n");
        string secret = _h.AddText("secret.jsonl", "{\"prompt\":\"Login fails\",\"completion\":\"Use password=Hunter2024! again.\"}\n");
        string template = _h.AddText("template.jsonl", "{\"prompt\":\"Where is my order?\",\"completion\":\"Order {{Order Number}} ships today.\"}\n");
        string link = _h.AddLink("outside.jsonl", Path.Combine(Path.GetTempPath(), "stune-no-such-target"));

        var outcome = await _h.RunAsync(new PrepareOptions { MaxRecordBytes = 4096, MaxTokens = 400, Secrets = SecretPolicy.Reject, Placeholders = PlaceholderPolicy.Drop },
            paths: [.. fixtures, utf8, large, binary, parquet, tokens, nul, twice, secret, template, link]);

        var allReasons = typeof(RejectReason).GetFields().Select(f => (string)f.GetValue(null)!).Order().ToList();
        Assert.Equal(allReasons, outcome.Stats.Reasons.Keys.Order().ToList());
        Assert.Equal("invalid_utf8", outcome.ReasonAt(utf8, 1));
        Assert.Equal("record_too_large", outcome.ReasonAt(large, 1));
        Assert.Equal("unrecognized_format", outcome.ReasonAt(binary, 1));
        Assert.Equal("invalid_parquet", outcome.ReasonAt(parquet, 1));
        Assert.Equal("too_many_tokens", outcome.ReasonAt(tokens, 1));
        Assert.Equal("nul_byte", outcome.ReasonAt(nul, 1));
        Assert.Equal("duplicate_key", outcome.ReasonAt(twice, 1));
        Assert.Contains("'completion'", outcome.Reject(twice, 1).GetProperty("message").GetString());
        Assert.Equal("secret", outcome.ReasonAt(secret, 1));
        Assert.Equal("template_placeholder", outcome.ReasonAt(template, 1));
        Assert.Equal("unsafe_link", outcome.ReasonAt(link, 0));
        Assert.All(outcome.Rejects, r => Assert.False(string.IsNullOrWhiteSpace(r.GetProperty("message").GetString())));
        Assert.True(outcome.Stats.AccountingHolds);
    }

    [Fact]
    public async Task Faq_columns_and_transcript_labels_can_be_chosen()
    {
        string faq = _h.AddText("kb.csv", "id;Frage;Antwort\n1;Wie lade ich den Akku?;Mit dem USB-C-Kabel, etwa zwei Stunden.\n");
        string log = _h.AddText("calls.txt", "Caller: My code stopped working.\nRep: I have reset it; try 4821 now.\n");
        var options = new PrepareOptions
        {
            ValidationFraction = 0, Columns = new() { User = "Frage", Assistant = "3" },
            Roles = new Dictionary<string, string> { ["caller"] = "user", ["Rep"] = "assistant" },
        };

        var outcome = await _h.RunAsync(options, paths: [faq, log]);

        Assert.Equal(new[] { "Wie lade ich den Akku?", "Mit dem USB-C-Kabel, etwa zwei Stunden.", "My code stopped working.", "I have reset it; try 4821 now." },
            outcome.KeptContents());
        Assert.Equal(new[] { "csv", "transcript" }, outcome.Stats.Files.Select(f => f.Format));
    }
}
