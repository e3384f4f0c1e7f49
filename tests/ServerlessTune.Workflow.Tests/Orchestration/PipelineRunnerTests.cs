using ServerlessTune.Core.Jobs;
using ServerlessTune.Core.Registry;
using ServerlessTune.Core.Storage;
using ServerlessTune.Workflow.Tests.Storage;

namespace ServerlessTune.Workflow.Tests.Orchestration;

/// <summary>The real orchestrator in the real in-process Durable Task engine, over a local folder store.</summary>
public sealed class PipelineRunnerTests : IDisposable
{
    readonly PipelineHarness _harness = new();
    readonly LocalFolderStore _store;

    public PipelineRunnerTests() => _store = new LocalFolderStore(Path.Combine(_harness.Scratch, "store"));

    public void Dispose() => _harness.Dispose();

    [Fact]
    public async Task A_passing_run_prepares_trains_evaluates_registers_and_moves_production()
    {
        await PipelineHarness.AddDatasetAsync(_store);
        // Scripted evaluation: the registry must record exactly the figure the evaluation wrote (2.0); the real
        // evaluation job is EndToEndLocalTests'.
        var evaluation = new ScriptedEvaluation(candidatePerplexity: 2.0);
        // The test trainer keeps running until the watcher has seen its loss, so the check does not race the poll.
        string release = Path.Combine(_store.Location, "runs", "run-pass", "release");
        var log = new StatusLog(status => { if (status.Loss is not null) File.WriteAllText(release, ""); });

        var run = await _harness.Runner(_store, ScriptTrainer.SucceedsWhenReleased, evaluation).RunAsync(PipelineHarness.Input(), log, runId: "run-pass");

        Assert.True(run.Status == PipelineOutcome.Completed, $"{run.Status}: {run.Error}");
        Assert.Null(run.Error);
        Assert.True(run.Gate!.Passed);
        Assert.Equal("production", run.Alias);
        var registry = new ModelRegistry(_store);
        var version = Assert.Single(await registry.ListAsync(PipelineHarness.Project));
        Assert.Equal(run.Version, version.Version);
        Assert.Equal("run-pass", version.RunId);
        Assert.Equal("runs/run-pass/adapter", version.Adapter);
        Assert.Equal("models/base", version.BaseModel);
        Assert.Equal(2.0, version.Metrics["perplexity"]);
        Assert.Equal(run.Result!.DatasetVersion, version.DatasetVersion);
        Assert.Equal(version.Version, (await registry.GetAliasesAsync(PipelineHarness.Project))["production"]);
        // Artifacts are keyed by the run id.
        Assert.True(await _store.ExistsAsync("prepared/run-pass/train.jsonl"));
        Assert.True(await _store.ExistsAsync("runs/run-pass/jobs/train/spec.json"));
        Assert.True(await _store.ExistsAsync("runs/run-pass/jobs/evaluate/spec.json"));
        Assert.True(await _store.ExistsAsync("runs/run-pass/adapter/adapter_config.json"));
        Assert.True(await _store.ExistsAsync("reports/run-pass/report.html"));
        Assert.True(await _store.ExistsAsync("reports/run-pass/dashboard.html")); // written after Deploy
        // Users watching saw the steps in pipeline order (a step shorter than the watch interval may pass unseen)
        // and the trainer's latest loss.
        string[] order = ["ResolveBaseModel", "PrepareData", "Train", "Evaluate", "Gate", "Deploy", "WriteDashboard", "Completed"];
        var seen = log.Reports.Select(r => Array.IndexOf(order, r.Step)).ToList();
        Assert.DoesNotContain(-1, seen);
        Assert.Equal(seen.Order(), seen);
        Assert.Equal("Completed", log.Reports[^1].Step);
        Assert.Equal(1.0, log.Reports[^1].Progress);
        Assert.Contains(log.Reports, r => r is { Step: "Train", TrainingStep: 2, Loss: 1.25 });
        // One training job, then one evaluation job for the families that have inputs (dialogues need a dialogues file).
        Assert.Equal([JobKinds.Train, JobKinds.Evaluate], ScriptTrainer.JobsRun(_harness.Jobs!));
        var spec = JobSpec.Parse(await _store.ReadAllTextAsync("runs/run-pass/jobs/evaluate/spec.json"), "spec.json");
        Assert.Equal(["language_model", "qa", "feedback"], spec.Evaluation!.Options.Families);
        Assert.Equal(["base", "candidate"], spec.Evaluation.Models.Select(m => m.Name));
        Assert.Equal(new StoredModel("candidate", "models/base", "runs/run-pass/adapter", "models/base + runs/run-pass/adapter"), spec.Evaluation.Models[1]);
    }

    [Fact]
    public async Task A_trainer_that_exits_0_without_writing_a_model_fails_at_Deploy_and_registers_nothing()
    {
        await PipelineHarness.AddDatasetAsync(_store);

        // Scripted evaluation: a real one would fail on the missing model before Deploy, whose check is the subject.
        var run = await _harness.Runner(_store, ScriptTrainer.WritesNoModel, new ScriptedEvaluation(candidatePerplexity: 2.0))
            .RunAsync(PipelineHarness.Input(), runId: "run-empty");

        Assert.Equal("Failed", run.Status);
        Assert.Contains("Deploy", run.Error);
        Assert.Contains("runs/run-empty/adapter", run.Error);
        Assert.Empty(await new ModelRegistry(_store).ListAsync(PipelineHarness.Project));
        Assert.Empty(await new ModelRegistry(_store).GetAliasesAsync(PipelineHarness.Project));
    }

    [Fact]
    public async Task A_failing_gate_ends_GateFailed_with_reasons_and_moves_no_alias()
    {
        await PipelineHarness.AddDatasetAsync(_store);

        // Scripted evaluation: the gate must refuse a candidate worse than its base by a known figure (4.5 against 3.0),
        // which no trained tiny model gives alike on every CPU.
        var run = await _harness.Runner(_store, ScriptTrainer.Succeeds, new ScriptedEvaluation(candidatePerplexity: 4.5))
            .RunAsync(PipelineHarness.Input(), runId: "run-worse");

        Assert.True(run.Status == PipelineOutcome.GateFailed, $"{run.Status}: {run.Error}");
        Assert.False(run.Gate!.Passed);
        var reason = Assert.Single(run.Gate.Reasons);
        Assert.Contains("perplexity", reason);
        Assert.Contains("4.5", reason);
        Assert.Null(run.Version);
        Assert.False(await _store.ExistsAsync("registry/acme/aliases.json"));
        Assert.Empty(await new ModelRegistry(_store).ListAsync(PipelineHarness.Project));
    }

    [Fact]
    public async Task An_advisory_gate_that_fails_still_deploys_but_only_to_staging()
    {
        await PipelineHarness.AddDatasetAsync(_store);
        const string config = """{ "gate": { "mode": "advisory", "rules": [ { "metric": "perplexity", "op": "<=", "relative_to": "base" } ] } }""";

        // Scripted evaluation: a candidate the rule refuses by a known figure, as in the enforce test above.
        var run = await _harness.Runner(_store, ScriptTrainer.Succeeds, new ScriptedEvaluation(candidatePerplexity: 4.5))
            .RunAsync(PipelineHarness.Input(config), runId: "run-advisory");

        Assert.True(run.Status == PipelineOutcome.Completed, $"{run.Status}: {run.Error}");
        Assert.False(run.Gate!.Passed);
        Assert.Equal("staging", run.Alias);
        var aliases = await new ModelRegistry(_store).GetAliasesAsync(PipelineHarness.Project);
        Assert.Equal(run.Version, aliases["staging"]);
        Assert.False(aliases.ContainsKey("production"));
    }

    [Fact]
    public async Task A_crashing_trainer_fails_the_run_with_its_own_message()
    {
        await PipelineHarness.AddDatasetAsync(_store);

        var run = await _harness.Runner(_store, ScriptTrainer.Crashes, evaluation: null).RunAsync(PipelineHarness.Input(), runId: "run-crash");

        Assert.Equal("Failed", run.Status);
        Assert.StartsWith("Train: training job pid-", run.Error);
        Assert.EndsWith("failed: trainer exited with code 3: error: training failed: out of memory at step 2", run.Error);
        Assert.Empty(await new ModelRegistry(_store).ListAsync(PipelineHarness.Project));
    }

    [Fact]
    public async Task A_training_job_past_its_deadline_is_stopped_and_fails_the_run()
    {
        await PipelineHarness.AddDatasetAsync(_store);
        var input = PipelineHarness.Input() with { Timing = PipelineHarness.FastTiming with { JobTimeoutMinutes = 0.005 } };

        var run = await _harness.Runner(_store, ScriptTrainer.RunsForever, evaluation: null).RunAsync(input, runId: "run-slow");

        Assert.Equal("Failed", run.Status);
        Assert.Matches(@"^Train: training job pid-\d+ did not finish within 0\.005 minutes and was stopped$", run.Error);
    }

    [Fact]
    public async Task A_job_lost_with_its_worker_is_started_again_and_the_run_completes()
    {
        await PipelineHarness.AddDatasetAsync(_store);
        // What a worker that crashed mid-training leaves behind: the record of a job no process runs any more.
        await _store.WriteAllTextAsync("runs/run-resumed/jobs/train/execution.json",
            """{"runId":"run-resumed","kind":"train","launcher":"local","executionId":"pid-1"}""");

        var run = await _harness.Runner(_store, ScriptTrainer.CopiesTheBase, evaluation: null).RunAsync(PipelineHarness.Input(), runId: "run-resumed");

        Assert.True(run.Status == PipelineOutcome.Completed, $"{run.Status}: {run.Error}");
        Assert.DoesNotContain("pid-1\"", await _store.ReadAllTextAsync("runs/run-resumed/jobs/train/execution.json"));
        Assert.True(await _store.ExistsAsync("runs/run-resumed/metrics.jsonl"));
    }

    [Fact]
    public async Task A_job_lost_more_often_than_the_relaunch_limit_fails_the_run_naming_the_limit()
    {
        await PipelineHarness.AddDatasetAsync(_store);

        var run = await _harness.Runner(_store, ScriptTrainer.IsInterrupted, evaluation: null).RunAsync(PipelineHarness.Input(), runId: "run-lost");

        Assert.Equal("Failed", run.Status);
        Assert.Matches(@"^Train: training job pid-\d+ was lost 4 times, past the limit of 3 relaunches: trainer pid-\d+ was interrupted \(it saved a checkpoint\)$", run.Error);
        // The first start and three relaunches; no evaluation, nothing registered.
        Assert.Equal(Enumerable.Repeat(JobKinds.Train, 4), ScriptTrainer.JobsRun(_harness.Jobs!));
        Assert.Empty(await new ModelRegistry(_store).ListAsync(PipelineHarness.Project));
    }

    [Fact]
    public async Task A_transient_activity_failure_is_retried_and_the_run_completes()
    {
        await PipelineHarness.AddDatasetAsync(_store);
        var faults = new JobStatusFaults(TransientFailuresPerJob: 1);

        var run = await _harness.Runner(_store, ScriptTrainer.CopiesTheBase, evaluation: null, faults: faults)
            .RunAsync(PipelineHarness.Input(), runId: "run-flaky");

        Assert.True(run.Status == PipelineOutcome.Completed, $"{run.Status}: {run.Error}");
        // Each job's first status call failed once and was retried.
        Assert.Equal([JobKinds.Evaluate, JobKinds.Train], faults.Calls.Keys.Order());
        Assert.All(faults.Calls.Values, n => Assert.True(n >= 2, $"{n} calls"));
        Assert.Single(await new ModelRegistry(_store).ListAsync(PipelineHarness.Project));
    }

    [Fact]
    public async Task A_user_error_is_not_retried_and_fails_the_run_with_its_message()
    {
        await PipelineHarness.AddDatasetAsync(_store);
        var faults = new JobStatusFaults(UserError: "runs/run-user-error/metrics.jsonl:3: step: missing");

        var run = await _harness.Runner(_store, ScriptTrainer.CopiesTheBase, evaluation: null, faults: faults)
            .RunAsync(PipelineHarness.Input(), runId: "run-user-error");

        Assert.Equal("Failed", run.Status);
        Assert.Equal("Train: runs/run-user-error/metrics.jsonl:3: step: missing", run.Error);
        Assert.Equal(1, Assert.Single(faults.Calls).Value);
    }

    [Fact]
    public async Task A_bad_suite_fails_Evaluate_naming_the_line_before_the_evaluation_job_starts()
    {
        await PipelineHarness.AddDatasetAsync(_store);
        await _store.WriteAllTextAsync("datasets/acme/eval/suite.jsonl",
            """{"id": "q1", "question": "How do I reset R1?", "references": ["Hold reset."]}""" + "\n" + """{"id": "q2", "question": "?"}""" + "\n");

        var run = await _harness.Runner(_store, ScriptTrainer.CopiesTheBase, evaluation: null)
            .RunAsync(PipelineHarness.Input("""{ "eval": { "suite": "eval/suite.jsonl" } }"""), runId: "run-bad-suite");

        Assert.Equal("Failed", run.Status);
        Assert.StartsWith("Evaluate: ", run.Error);
        Assert.EndsWith("datasets/acme/eval/suite.jsonl:2: the case has neither references nor checks, so nothing would be measured", run.Error);
        Assert.Equal([JobKinds.Train], ScriptTrainer.JobsRun(_harness.Jobs!));
    }

    [Fact]
    public async Task A_project_without_data_fails_in_PrepareData_naming_the_folder()
    {
        await PipelineHarness.AddBaseModelAsync(_store);
        var run = await _harness.Runner(_store, ScriptTrainer.CopiesTheBase, evaluation: null).RunAsync(PipelineHarness.Input(), runId: "run-empty");

        Assert.Equal("Failed", run.Status);
        Assert.StartsWith("PrepareData: datasets/acme/: no data files", run.Error);
    }
}

/// <summary>The same end-to-end run with every artifact in Azurite's blob storage.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class PipelineRunnerOnBlobTests(AzuriteFixture azurite) : IDisposable
{
    readonly PipelineHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    [Fact]
    public async Task A_passing_run_over_blob_storage_completes_with_a_registered_version_and_alias()
    {
        var store = await azurite.NewStoreAsync();
        await PipelineHarness.AddDatasetAsync(store);
        // Scripted evaluation: the test scripts write into a scratch folder, not the container (they only have to exit 0
        // here), so the adapter Deploy checks and the scripted evaluation's outputs are put in the container before the
        // run. The real evaluation over blob storage is EndToEndBlobTests'.
        await ScriptTrainer.WriteAdapterAsync(store, "run-blob");
        var evaluation = new ScriptedEvaluation(2.0);
        await evaluation.WriteAsync(store, "run-blob");
        var run = await _harness.Runner(store, ScriptTrainer.Succeeds, evaluation, storeFolder: _harness.Scratch)
            .RunAsync(PipelineHarness.Input(), runId: "run-blob");

        Assert.True(run.Status == PipelineOutcome.Completed, $"{run.Status}: {run.Error}");
        var registry = new ModelRegistry(store);
        Assert.Equal(run.Version, Assert.Single(await registry.ListAsync(PipelineHarness.Project)).Version);
        Assert.Equal(run.Version, (await registry.GetAliasesAsync(PipelineHarness.Project))["production"]);
        Assert.True(await store.ExistsAsync("prepared/run-blob/train.jsonl"));
        Assert.True(await store.ExistsAsync("runs/run-blob/jobs/train/execution.json"));
        Assert.True(await store.ExistsAsync("reports/run-blob/report.json"));
    }
}
