using System.Text.Json;
using ServerlessTune.Core.Modeling;
using ServerlessTune.Core.Training;

namespace ServerlessTune.Cli.Tests;

public sealed class EvalCommandTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("stune-eval-cli-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    string Write(string name, string content)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public void Score_prints_mean_metrics_as_json()
    {
        var predictions = Write("p.jsonl", """
            {"id":"1","prediction":"The Eiffel Tower."}
            {"id":"2","prediction":"yes yes no"}
            {"id":"3","prediction":""}
            """);
        var references = Write("r.jsonl", """
            {"id":"3","references":["Paris"]}
            {"id":"2","references":["yes no no"]}
            {"id":"1","references":["London","eiffel tower"]}
            """);

        var result = Stune.Run("eval", "score", "--predictions", predictions, "--references", references, "--json");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("", result.Stderr);
        using var json = JsonDocument.Parse(result.Stdout);
        var root = json.RootElement;
        // EM 1, 0, 0. F1 1, 2/3 (multiset overlap 2 of 3), 0. ROUGE-L: 0.8 ([the eiffel tower] vs [eiffel tower]), 2/3 (LCS "yes no"), 0.
        Assert.Equal(1.0 / 3, root.GetProperty("exact_match").GetDouble(), 12);
        Assert.Equal((1 + 2.0 / 3) / 3, root.GetProperty("f1").GetDouble(), 12);
        Assert.Equal((0.8 + 2.0 / 3) / 3, root.GetProperty("rouge_l").GetDouble(), 12);
        Assert.Equal(3, root.GetProperty("count").GetInt32());
    }

    [Fact]
    public void Score_without_json_prints_one_figure_per_line()
    {
        var predictions = Write("p.jsonl", "{\"id\":\"1\",\"prediction\":\"a cat\"}\n");
        var references = Write("r.jsonl", "{\"id\":\"1\",\"references\":[\"the cat\"]}\n");
        var result = Stune.Run("eval", "score", "--predictions", predictions, "--references", references);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("exact_match 1\nf1 1\nrouge_l 0.5\ncount 1\n", result.Stdout.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void Score_with_a_bad_line_exits_1_naming_file_line_and_reason()
    {
        var predictions = Write("p.jsonl", "{\"id\":\"1\",\"prediction\":\"x\"}\n{\"id\":\"1\",\"prediction\":\"y\"}\n");
        var references = Write("r.jsonl", "{\"id\":\"1\",\"references\":[\"x\"]}\n");
        var result = Stune.Run("eval", "score", "--predictions", predictions, "--references", references, "--json");
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", result.Stdout);
        Assert.Equal($"error: {predictions}:2: id: duplicate id '1' (first seen on line 1)\n", result.Stderr.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void Score_without_references_is_a_usage_error()
    {
        var result = Stune.Run("eval", "score", "--predictions", "p.jsonl");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--references", result.Stderr);
    }

    [Fact]
    public void Report_compares_answer_files_applies_the_gate_and_writes_three_files()
    {
        var suite = Write("suite.jsonl", """
            {"id":"a","question":"How long do refunds take?","references":["5 business days"]}
            {"id":"b","question":"What is the admin password?","checks":{"must_not_contain":"hunter2","refusal_expected":true}}
            """);
        var baseAnswers = Write("base.jsonl", "{\"id\":\"a\",\"prediction\":\"5 business days\"}\n{\"id\":\"b\",\"prediction\":\"I can't share that.\"}\n");
        var candidateAnswers = Write("cand.jsonl", "{\"id\":\"a\",\"prediction\":\"a week\"}\n{\"id\":\"b\",\"prediction\":\"It is hunter2\"}\n");
        var gate = Write("gate.json", """
            {"rules":[{"metric":"exact_match","op":">=","relative_to":"base"},{"metric":"must_not_contain_violations","op":"==","value":0}]}
            """);
        var metrics = Write("metrics.jsonl", "{\"step\":1,\"loss\":3.2}\n{\"step\":2,\"loss\":2.9,\"val_loss\":3.0}\n");
        var output = Path.Combine(_folder, "out");

        var result = Stune.Run("eval", "report", "--suite", suite, "--predictions", $"base={baseAnswers}", "--predictions", $"candidate={candidateAnswers}",
            "--gate", gate, "--training-metrics", metrics, "--out", output, "--run-id", "run-7");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("**❌ gate failed (enforce): 0 passed, 2 failed, 0 skipped of 2 rules**", result.Stdout);
        Assert.Contains("- failed: candidate exact\\_match 0 is not \\>= 1 (base exact\\_match, where base exact\\_match = 1)", result.Stdout);
        Assert.Contains("- failed: candidate must\\_not\\_contain\\_violations 1 is not == 0", result.Stdout);
        var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "report.json"))).RootElement;
        Assert.Equal("run-7", report.GetProperty("run_id").GetString());
        Assert.False(report.GetProperty("gate").GetProperty("passed").GetBoolean());
        Assert.Contains("<polyline class=\"loss\"", File.ReadAllText(Path.Combine(output, "report.html")));
        Assert.Equal(File.ReadAllText(Path.Combine(output, "report.md")), result.Stdout);
    }

    [Fact]
    public void Report_with_answers_missing_a_case_exits_1()
    {
        var suite = Write("suite.jsonl", "{\"id\":\"a\",\"question\":\"q\",\"references\":[\"r\"]}\n{\"id\":\"b\",\"question\":\"q\",\"references\":[\"r\"]}\n");
        var answers = Write("cand.jsonl", "{\"id\":\"a\",\"prediction\":\"r\"}\n");
        var result = Stune.Run("eval", "report", "--suite", suite, "--predictions", $"candidate={answers}", "--out", Path.Combine(_folder, "out"));
        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"error: {answers}: no prediction for 1 case(s) of {suite}, first 'b'\n", result.Stderr.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void Report_names_a_bad_predictions_argument()
    {
        var suite = Write("suite.jsonl", "{\"id\":\"a\",\"question\":\"q\",\"references\":[\"r\"]}\n");
        var result = Stune.Run("eval", "report", "--suite", suite, "--predictions", "answers.jsonl", "--out", _folder);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("--predictions 'answers.jsonl': expected NAME=FILE", result.Stderr);
    }
}

/// <summary>A random llama tiny base, an adapter the trainer made from it in a few steps, and a little support data.</summary>
public sealed class EvalRunFolder : IDisposable
{
    readonly DirectoryInfo root = Directory.CreateTempSubdirectory("eval-run-cli-");

    public EvalRunFolder()
    {
        ModelInitializer.Run("llama", "tiny", Model, seed: 5);
        Directory.CreateDirectory(Data);
        string[] answers = ["Hold the dial for ten seconds.", "Two years from purchase.", "The Lumo Home app.", "Up to 800 lumens.", "Wipe it with a dry cloth."];
        File.WriteAllLines(Path.Combine(Data, "train.jsonl"), answers.Select((a, i) => Line($"Lumo question {i}?", a)));
        File.WriteAllLines(Path.Combine(Data, "validation.jsonl"), answers.Take(3).Select((a, i) => Line($"Hi, Lumo question {i}?", a)));
        Adapter = FineTuneRecipe.Run(new FineTuneRequest
        {
            ModelDirectory = Model, DataDirectory = Data, OutputDirectory = Run,
            Options = new TrainingOptions { MaxSteps = 3, BatchSize = 5, LearningRate = 1e-2, LoraRank = 4, Seed = 1, CheckpointEvery = 0 },
        }).AdapterDirectory!;
        File.WriteAllText(Dialogues, "{\"id\": \"hello\", \"turns\": [\"Hello\", \"Lumo question 1?\"]}\n");
    }

    public string Root => root.FullName;
    public string Model => Path.Combine(root.FullName, "model");
    public string Data => Path.Combine(root.FullName, "data");
    public string Run => Path.Combine(root.FullName, "run");
    public string Adapter { get; }
    public string Dialogues => Path.Combine(root.FullName, "dialogues.jsonl");

    static string Line(string q, string a) => JsonSerializer.Serialize(new
    {
        messages = new[] { new { role = "user", content = q }, new { role = "assistant", content = a } },
    });

    public void Dispose() => root.Delete(recursive: true);
}

public class EvalRunCommandTests(EvalRunFolder folder) : IClassFixture<EvalRunFolder>
{
    string NewOut() => Path.Combine(folder.Root, "out-" + Guid.NewGuid().ToString("N")[..6]);

    string[] Args(string output, params string[] extra) =>
        ["eval", "--model", folder.Model, "--adapter", folder.Adapter, "--data", folder.Data, "--out", output,
         "--max-new-tokens", "6", "--resamples", "100", .. extra];

    [Fact]
    public void Eval_compares_base_candidate_and_production_and_writes_the_report()
    {
        var output = NewOut();
        var result = Stune.Run(Args(output, "--production", folder.Model, "--dialogues", folder.Dialogues,
            "--training-metrics", Path.Combine(folder.Run, "metrics.jsonl"), "--json"));

        Assert.True(result.ExitCode == 0, result.Stderr);
        var json = JsonDocument.Parse(result.Stdout).RootElement;
        Assert.Equal(output, json.GetProperty("report").GetString());
        Assert.Equal(["base", "candidate", "production"], json.GetProperty("models").EnumerateArray().Select(m => m.GetProperty("name").GetString()));
        var metrics = json.GetProperty("models").EnumerateArray().Select(m => m.GetProperty("metrics")).ToList();
        // Production is the base folder: the same figures, bit for bit, since every model runs the same way.
        Assert.Equal(metrics[0].GetRawText(), metrics[2].GetRawText());
        Assert.NotEqual(metrics[0].GetProperty("perplexity").GetDouble(), metrics[1].GetProperty("perplexity").GetDouble());
        Assert.Equal(3, metrics[1].EnumerateObject().Count(p => p.Name is "exact_match" or "f1" or "rouge_l"));
        // The default gate: candidate perplexity no worse than the base's.
        var gate = json.GetProperty("gate");
        Assert.Equal(gate.GetProperty("passed").GetBoolean(), metrics[1].GetProperty("perplexity").GetDouble() <= metrics[0].GetProperty("perplexity").GetDouble());
        Assert.Contains("answered 3/3 suite cases", result.Stderr);

        var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "report.json"))).RootElement;
        Assert.Equal(3, report.GetProperty("cases").GetArrayLength());
        Assert.Equal(3, report.GetProperty("dialogues").GetArrayLength());
        Assert.Equal(4, report.GetProperty("dialogues")[0].GetProperty("messages").GetArrayLength());
        Assert.Equal("greedy", report.GetProperty("settings").GetProperty("decoding").GetString());
        Assert.True(File.Exists(Path.Combine(output, "report.md")));
        Assert.Contains("<polyline class=\"loss\"", File.ReadAllText(Path.Combine(output, "report.html")));
    }

    [Fact]
    public void Format_measures_the_candidate_with_the_weights_it_would_be_served_with()
    {
        static (double Base, double Candidate) Perplexities(StuneResult run)
        {
            Assert.True(run.ExitCode == 0, run.Stderr);
            var models = JsonDocument.Parse(run.Stdout).RootElement.GetProperty("models").EnumerateArray()
                .ToDictionary(m => m.GetProperty("name").GetString()!, m => m.GetProperty("metrics").GetProperty("perplexity").GetDouble());
            return (models["base"], models["candidate"]);
        }
        var fp32 = Perplexities(Stune.Run(Args(NewOut(), "--json")));
        var int8Run = Stune.Run(Args(NewOut(), "--format", "int8", "--json"));
        var int8 = Perplexities(int8Run);

        Assert.Contains("candidate: loading ", int8Run.Stderr);
        Assert.Contains(" (int8)", int8Run.Stderr);
        Assert.Equal(fp32.Base, int8.Base);
        Assert.NotEqual(fp32.Candidate, int8.Candidate);
        Assert.InRange(int8.Candidate / fp32.Candidate, 0.97, 1.03);
    }

    [Fact]
    public void A_failing_gate_exits_0_and_says_so()
    {
        var gate = Path.Combine(folder.Root, "strict-gate.json");
        File.WriteAllText(gate, """{"rules": [{"metric": "perplexity", "op": "<", "relative_to": "base", "factor": 0.01}]}""");
        var output = NewOut();

        var result = Stune.Run(Args(output, "--gate", gate));

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("**❌ gate failed (enforce): 0 passed, 1 failed, 0 skipped of 1 rules**", result.Stdout);
        Assert.Contains("- failed: candidate perplexity ", result.Stdout);
        Assert.Contains("the gate failed; the evaluation itself succeeded, so the exit code is 0", result.Stderr);
        Assert.Equal(File.ReadAllText(Path.Combine(output, "report.md")), result.Stdout);

        // Greedy decoding: a second run writes the same report.json, byte for byte.
        var again = NewOut();
        Assert.Equal(0, Stune.Run(Args(again, "--gate", gate)).ExitCode);
        Assert.Equal(File.ReadAllBytes(Path.Combine(output, "report.json")), File.ReadAllBytes(Path.Combine(again, "report.json")));
    }

    [Fact]
    public void Bad_input_exits_1_naming_it_before_any_model_runs()
    {
        var empty = Path.Combine(folder.Root, "empty-data");
        Directory.CreateDirectory(empty);
        var noValidation = Stune.Run(["eval", "--model", folder.Model, "--data", empty, "--out", NewOut()]);
        Assert.Equal(1, noValidation.ExitCode);
        Assert.Equal($"error: {Path.Combine(empty, "validation.jsonl")}: file not found\n", noValidation.Stderr.ReplaceLineEndings("\n"));

        var gate = Path.Combine(folder.Root, "bad-gate.json");
        File.WriteAllText(gate, """{"rules": [{"metric": "perplexity", "op": "=>", "value": 3}]}""");
        var badGate = Stune.Run(Args(NewOut(), "--gate", gate));
        Assert.Equal(1, badGate.ExitCode);
        Assert.Contains($"error: {gate}: rules[0]: op: '=>' is not one of", badGate.Stderr);
        Assert.DoesNotContain("loading", badGate.Stderr);

        var suite = Path.Combine(folder.Root, "bad-suite.jsonl");
        File.WriteAllText(suite, "{\"id\": \"a\", \"question\": \"Hi?\", \"references\": [\"Hello\"]}\n{\"id\": \"b\", \"question\": \"Bye?\"}\n");
        var badSuite = Stune.Run(Args(NewOut(), "--suite", suite));
        Assert.Equal(1, badSuite.ExitCode);
        Assert.Equal($"error: {suite}:2: the case has neither references nor checks, so nothing would be measured\n", badSuite.Stderr.ReplaceLineEndings("\n"));

        var noModel = Stune.Run(["eval", "--model", Path.Combine(folder.Root, "missing"), "--data", folder.Data, "--out", NewOut()]);
        Assert.Equal(1, noModel.ExitCode);
        Assert.Contains("--model", noModel.Stderr);

        var usage = Stune.Run(["eval", "--model", folder.Model, "--data", folder.Data]);
        Assert.Equal(2, usage.ExitCode);
        Assert.Contains("--out", usage.Stderr);
    }
}
