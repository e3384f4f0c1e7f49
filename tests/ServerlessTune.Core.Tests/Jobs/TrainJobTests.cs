using System.Text.Json.Nodes;
using ServerlessTune.Core.Jobs;
using ServerlessTune.Core.Storage;
using ServerlessTune.Core.Tests.Training;
using ServerlessTune.Core.Training;

namespace ServerlessTune.Core.Tests.Jobs;

[Collection(GlobalRngCollection.Name)]
public class TrainJobTests(TinyRunFixture fixture) : IClassFixture<TinyRunFixture>
{
    static readonly TrainingOptions Options = new()
    {
        MaxSteps = 4, BatchSize = 4, GradAccum = 1, LearningRate = 1e-2, LoraRank = 2, EvalEvery = 2, CheckpointEvery = 2, Threads = 1,
    };

    async Task<LocalFolderStore> StoreWithInputs(TempDir dir)
    {
        var store = new LocalFolderStore(dir.Path);
        await store.UploadFolderAsync(fixture.ModelDirectory, "models/tiny");
        await store.UploadFolderAsync(fixture.DataDirectory, "prepared/run1");
        return store;
    }

    static JobSpec Spec(string baseModel = "models/tiny") => new()
    {
        RunId = "run1", BaseModel = baseModel, Data = "prepared/run1", Hyperparameters = Options,
    };

    [Fact]
    public async Task Job_pulls_inputs_trains_and_pushes_outputs_and_status()
    {
        using var dir = new TempDir();
        var store = await StoreWithInputs(dir);
        await store.WriteAllTextAsync("jobs/run1.json", Spec().ToJson());
        using var work = new TempDir();

        var status = await new JobRunner(store, work.Path).RunAsync("jobs/run1.json");

        Assert.Equal(JobStatus.Succeeded, status.Status);
        Assert.Equal(4, status.Result!.Steps);
        foreach (var path in new[] { "adapter/adapter_config.json", "adapter/adapter_model.safetensors", "metrics.jsonl",
                     "checkpoints/step-2/trainer_state.json", "checkpoints/step-4/trainer_state.json", "jobs/train/status.json" })
            Assert.True(await store.ExistsAsync("runs/run1/" + path), path);
        var job = JsonNode.Parse(await store.ReadAllTextAsync("runs/run1/jobs/train/status.json"))!;
        Assert.Equal("succeeded", (string)job["status"]!);
        Assert.Equal("train", (string)job["kind"]!);
        Assert.Equal(4, (int)job["result"]!["steps"]!);
        Assert.Equal("runs/run1/adapter", (string)job["result"]!["adapter_directory"]!);

        // A retried job (e.g. after eviction) finds the run's checkpoints in the store and does not start over.
        using var retryWork = new TempDir();
        var retry = await new JobRunner(store, retryWork.Path).RunAsync("jobs/run1.json");
        Assert.Equal(4, retry.Result!.Steps);
        Assert.Equal(MetricsFile.Read(work.File("run/metrics.jsonl")).Count, MetricsFile.Read(retryWork.File("run/metrics.jsonl")).Count);
    }

    [Fact]
    public async Task Failure_is_written_to_the_job_status_and_rethrown()
    {
        using var dir = new TempDir();
        var store = await StoreWithInputs(dir);
        await store.WriteAllTextAsync("jobs/run1.json", Spec("models/missing").ToJson());
        using var work = new TempDir();

        var ex = await Assert.ThrowsAsync<UserInputException>(() => new JobRunner(store, work.Path).RunAsync("jobs/run1.json"));
        Assert.Contains("models/missing: no model files", ex.Message);
        var job = JsonNode.Parse(await store.ReadAllTextAsync("runs/run1/jobs/train/status.json"))!;
        Assert.Equal("failed", (string)job["status"]!);
        Assert.Equal(ex.Message, (string)job["error"]!);
    }

    [Theory]
    [InlineData("{\"run_id\":\"../x\",\"base_model\":\"m\",\"data\":\"d\"}", "invalid run_id '../x'")]
    [InlineData("{\"run_id\":\"r\",\"base_model\":\"/etc\",\"data\":\"d\"}", "base_model '/etc' is not a valid artifact path")]
    [InlineData("{\"run_id\":\"r\",\"base_model\":\"m\"}", "data")]
    [InlineData("{\"run_id\":\"r\",\"base_model\":\"m\",\"data\":\"d\",\"hyperparameters\":{\"lr\":1}}", "lr")]
    [InlineData("{\"kind\":\"serve\",\"run_id\":\"r\",\"data\":\"d\"}", "kind 'serve' is not one of train, evaluate")]
    [InlineData("{\"run_id\":\"r\",\"data\":\"d\"}", "base_model: missing")]
    [InlineData("{\"kind\":\"evaluate\",\"run_id\":\"r\",\"project\":\"p\",\"data\":\"d\"}", "evaluation: missing")]
    public void Bad_spec_names_the_key(string json, string message)
    {
        var ex = Assert.Throws<UserInputException>(() => JobSpec.Parse(json, "jobs/x.json"));
        Assert.Contains(message, ex.Message);
    }
}
