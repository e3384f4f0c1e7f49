using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.Json;

namespace ServerlessTune.Cli.Tests;

/// <summary>`stune prepare` as users run it: local folders and files in, a prepared folder out.</summary>
public sealed class PrepareCommandTests : IDisposable
{
    readonly string _work = Directory.CreateTempSubdirectory("stune-prepare-cli-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    static string Fixtures([CallerFilePath] string here = "") =>
        Path.Combine(Path.GetDirectoryName(here)!, "..", "ServerlessTune.Core.Tests", "Fixtures", "data");

    string CopyFixtures(params string[] names)
    {
        string folder = Path.Combine(_work, "support-export");
        Directory.CreateDirectory(folder);
        foreach (string name in names) File.Copy(Path.Combine(Fixtures(), name), Path.Combine(folder, name));
        return folder;
    }

    [Fact]
    public void A_folder_is_prepared_into_the_five_artifacts_with_a_summary_on_stdout()
    {
        string folder = CopyFixtures("chat.jsonl", "faq.csv", "transcripts.txt");
        string output = Path.Combine(folder, "prepared"); // inside the input folder: must not be read back as input

        var result = Stune.Run(["prepare", folder, "--out", output, "--seed", "3"], _work);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(new[] { "manifest.json", "rejects.jsonl", "stats.json", "train.jsonl", "validation.jsonl" },
            Directory.GetFiles(output).Select(Path.GetFileName).Order());
        Assert.StartsWith("records 27: kept 8", result.Stdout); // chat 19 (3 kept), faq 4 (3 kept), transcripts 4 (2 kept)
        Assert.Contains("dataset version ", result.Stdout);
        Assert.Contains("prepare:", result.Stderr);
        Assert.Contains("\"source\":\"support-export/chat.jsonl\",\"line\":4,\"reason\":\"invalid_json\"", File.ReadAllText(Path.Combine(output, "rejects.jsonl")));

        var again = Stune.Run(["prepare", folder, "--out", output, "--seed", "3"], _work);
        Assert.Equal(0, again.ExitCode);
        Assert.Equal(result.Stdout, again.Stdout);
    }

    [Fact]
    public void Json_output_is_the_stats_document_and_files_can_be_named_one_by_one()
    {
        string folder = CopyFixtures("faq.csv", "faq.tsv");
        string output = Path.Combine(_work, "out");

        var result = Stune.Run(["prepare", Path.Combine(folder, "faq.csv"), Path.Combine(folder, "faq.tsv"), "--out", output,
            "--json", "--no-redact", "--val-fraction", "0", "--template", "chatml", "--tokenizer", "gpt2"], _work);

        Assert.Equal(0, result.ExitCode);
        using var stats = JsonDocument.Parse(result.Stdout);
        Assert.True(stats.RootElement.GetProperty("accountingHolds").GetBoolean());
        Assert.Equal(5, stats.RootElement.GetProperty("totals").GetProperty("train").GetInt32());
        Assert.Equal(new[] { "faq.csv", "faq.tsv" }, stats.RootElement.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("path").GetString()));
        Assert.False(stats.RootElement.GetProperty("stages").GetProperty("redact").GetProperty("enabled").GetBoolean());
    }

    [Theory]
    [InlineData("--val-fraction", "1.5", "--val-fraction")]
    [InlineData("--max-tokens", "2", "--max-tokens")]
    [InlineData("--tokenizer", "no-such-tokenizer", "no-such-tokenizer")]
    [InlineData("--role", "Rep", "--role 'Rep'")]
    public void Bad_values_exit_1_with_one_line_naming_them(string option, string value, string named)
    {
        string folder = CopyFixtures("faq.csv");
        var result = Stune.Run(["prepare", folder, "--out", Path.Combine(_work, "out"), option, value], _work);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", result.Stdout);
        Assert.Contains(named, result.Stderr);
    }

    [Fact]
    public void A_missing_input_exits_1_and_a_missing_out_is_a_usage_error()
    {
        var missing = Stune.Run(["prepare", Path.Combine(_work, "nope.jsonl"), "--out", Path.Combine(_work, "out")], _work);
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("nope.jsonl: no such file or folder", missing.Stderr);

        var usage = Stune.Run(["prepare", CopyFixtures("faq.csv")], _work);
        Assert.Equal(2, usage.ExitCode);
        Assert.Contains("--out", usage.Stderr);
    }

    string Write(string name, string text)
    {
        string folder = Path.Combine(_work, "support-export");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, name), text);
        return folder;
    }

    [Fact]
    public void Dry_run_shows_each_files_mapping_and_first_record_on_stderr_and_the_counts_on_stdout_and_writes_nothing()
    {
        Write("bitext.csv", "flags,instruction,category,intent,response\n"
            + "B,cancel order {{Order Number}},ORDER,cancel_order,\"Open order {{Order Number}} and press Cancel.\"\n"
            + "BL,how do I get a refund,REFUND,get_refund,Refunds reach your card within five days.\n");
        string folder = Write("sharegpt.jsonl", """{"conversations":[{"from":"human","value":"Is the S2 waterproof?"},{"from":"gpt","value":"It is rated IP54."}]}""" + "\n");
        Directory.CreateDirectory(Path.Combine(folder, "eval"));
        File.WriteAllText(Path.Combine(folder, "eval", "suite.jsonl"), """{"id":"a","question":"Is it loud?","references":["No."]}""" + "\n");

        var result = Stune.Run(["prepare", folder, "--dry-run"], _work);

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.StartsWith("records 3: kept 3", result.Stdout);
        Assert.Contains("template placeholders (keep) in 1 answers: {{Order Number}} 1", result.Stdout);
        Assert.Contains("(dry run: nothing written)", result.Stdout);
        Assert.Contains("support-export/bitext.csv: csv, columns: user=instruction, assistant=response; not trained on flags, category, intent; by name", result.Stderr);
        Assert.Contains("  user: cancel order {{Order Number}}", result.Stderr);
        Assert.Contains("support-export/sharegpt.jsonl: jsonl, messages: list conversations, turns from/value, roles gpt=assistant, human=user; by name", result.Stderr);
        Assert.Contains("  assistant: It is rated IP54.", result.Stderr);
        Assert.DoesNotContain("eval/suite.jsonl", result.Stderr); // evaluation files are never trained on
        Assert.DoesNotContain(Directory.GetFiles(_work, "*.jsonl", SearchOption.AllDirectories), f => !f.Contains("support-export"));
    }

    [Fact]
    public void Two_candidate_columns_are_refused_naming_the_flag_and_the_flag_decides()
    {
        string folder = Write("export.csv", "question,prompt,answer\nIs it loud?,Is it loud?,No.\nDoes it beep?,Does it beep?,Three times.\n");
        string output = Path.Combine(_work, "out");

        var refused = Stune.Run(["prepare", folder, "--out", output], _work);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("error: support-export/export.csv:1: 'question' and 'prompt' could each be the user side; choose one with "
            + "pipeline.json prepare.columns.user (stune prepare --user-column)\n", refused.Stderr.ReplaceLineEndings("\n"));
        Assert.DoesNotContain(" at ServerlessTune", refused.Stderr);
        Assert.False(File.Exists(Path.Combine(output, "train.jsonl")));

        var chosen = Stune.Run(["prepare", folder, "--out", output, "--user-column", "prompt", "--json"], _work);
        Assert.True(chosen.ExitCode == 0, chosen.Stderr);
        var mapping = JsonDocument.Parse(chosen.Stdout).RootElement.GetProperty("files")[0].GetProperty("mapping");
        Assert.Equal("prompt", mapping.GetProperty("user").GetString());
        Assert.Equal("question", mapping.GetProperty("ignored")[0].GetString());
        Assert.Contains("by pipeline.json prepare.columns / --*-column flags", chosen.Stderr);
    }

    [Fact]
    public void Bench_prepare_accounts_for_every_corpus_line_and_reports_its_ratio_against_the_tokenizer()
    {
        var result = Stune.Run(["bench", "prepare", "--size-mb", "2", "--json"], _work);
        Assert.True(result.ExitCode == 0, result.Stderr);
        var json = JsonDocument.Parse(result.Stdout).RootElement;
        long Field(string name) => json.GetProperty(name).GetInt64();
        Assert.InRange(Field("corpus_bytes"), 2L << 20, (2L << 20) + 64 * 1024);
        // Each corpus line is one record, and each record ends up in exactly one of the four outcomes.
        Assert.Equal(Field("lines"), Field("kept") + Field("rejected") + Field("deduplicated") + Field("filtered"));
        Assert.True(Field("rejected") > 0 && Field("deduplicated") > 0, "the corpus plants broken lines and repeats");
        double before = json.GetProperty("tokenizer_megabytes_per_second_before").GetDouble();
        double after = json.GetProperty("tokenizer_megabytes_per_second_after").GetDouble();
        Assert.Equal((before + after) / 2, json.GetProperty("tokenizer_megabytes_per_second").GetDouble(), 9);
        // The limit runs one tokenizer per worker, as many as preparation starts (one per core, at most eight).
        Assert.Equal(Math.Clamp(Environment.ProcessorCount, 1, 8), Field("tokenizer_workers"));
        Assert.Equal(json.GetProperty("megabytes_per_second").GetDouble() / ((before + after) / 2), json.GetProperty("ratio").GetDouble(), 9);
        // The peak restarts at the resident set before preparing (page accounting may differ by a little).
        Assert.True(Field("peak_working_set_bytes") >= Field("baseline_working_set_bytes") - (16L << 20), result.Stdout);
        Assert.True(Field("allocated_bytes") > Field("corpus_bytes"), "parsing alone allocates the text once");
        // Figures from unoptimised code understate the ratio; the command says so when it is a Debug build, as here under dotnet test.
        bool debugBuild = typeof(ServerlessTune.Core.UserInputException).Assembly
            .GetCustomAttribute<System.Diagnostics.DebuggableAttribute>()?.IsJITOptimizerDisabled == true;
        Assert.Equal(debugBuild, result.Stderr.Contains("this is a Debug build", StringComparison.Ordinal));
    }
}
