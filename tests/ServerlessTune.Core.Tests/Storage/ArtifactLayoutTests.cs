using ServerlessTune.Core.Storage;

namespace ServerlessTune.Core.Tests.Storage;

public sealed class ArtifactLayoutTests
{
    [Fact]
    public void Every_artifact_of_a_run_has_one_path()
    {
        var run = ArtifactLayout.Run("r1");
        Assert.Equal("runs/r1/metrics.jsonl", run.Metrics);
        Assert.Equal("runs/r1/checkpoints/step-12", run.Checkpoint(12));
        Assert.Equal("runs/r1/adapter", run.Adapter);
        Assert.Equal("runs/r1/merged", run.Merged);
        Assert.Equal("runs/r1/training_settings.json", run.Settings);
        Assert.Equal("runs/r1/eval/qa.json", run.Evaluation("qa"));
        Assert.Equal("runs/r1/jobs/train/spec.json", run.Job("train").Spec);
        Assert.Equal("runs/r1/jobs/evaluate/execution.json", run.Job("evaluate").Execution);
        Assert.Equal("runs/r1/jobs/train/status.json", run.Job("train").Status);
        Assert.Equal("prepared/r1/validation.jsonl", ArtifactLayout.Prepared("r1").Validation);
        Assert.Equal("prepared/r1/", ArtifactLayout.Prepared("r1").Prefix);
        Assert.Equal("reports/r1/report.html", ArtifactLayout.Report("r1").Html);
    }

    [Fact]
    public void Projects_have_datasets_a_registry_and_daily_logs()
    {
        Assert.Equal("datasets/acme/pipeline.json", ArtifactLayout.Dataset("acme").Config);
        Assert.Equal("datasets/acme/eval/suite.jsonl", ArtifactLayout.Dataset("acme").File("eval/suite.jsonl"));
        Assert.Equal("registry/acme/versions/20261124-100000-ab12cd34/model.json", ArtifactLayout.Registry("acme").Version("20261124-100000-ab12cd34"));
        Assert.Equal("registry/acme/aliases.json", ArtifactLayout.Registry("acme").Aliases);
        var day = new DateOnly(2026, 11, 24);
        Assert.Equal("conversations/acme/2026-11-24/host1-00000007.jsonl", ArtifactLayout.Conversations("acme").Batch(day, "host1", 7));
        Assert.Equal(day, ArtifactLayout.Conversations("acme").DayOf("conversations/acme/2026-11-24/host1-00000007.jsonl"));
        Assert.Null(ArtifactLayout.Conversations("acme").DayOf("conversations/acme/not-a-day/x.jsonl"));
        Assert.Equal("feedback/acme/2026-11-24", ArtifactLayout.Feedback("acme").Day(day));
        Assert.Equal("models/hub/acme/tiny-llama/v1", ArtifactLayout.HubModel("acme/tiny-llama", "v1"));
        Assert.Equal("models/init/llama-tiny-seed0", ArtifactLayout.InitModel("llama-tiny-seed0"));
    }

    [Theory]
    [InlineData("../x")]
    [InlineData("a/b")]
    [InlineData("")]
    public void Names_that_could_address_another_folder_are_refused(string name)
    {
        Assert.Throws<UserInputException>(() => ArtifactLayout.Run(name));
        Assert.Throws<UserInputException>(() => ArtifactLayout.Dataset(name));
        Assert.Throws<UserInputException>(() => ArtifactLayout.Registry("acme").Version(name));
        Assert.Throws<UserInputException>(() => ArtifactLayout.Run("r1").Job(name));
        Assert.Throws<UserInputException>(() => ArtifactLayout.Feedback("acme").Batch(new DateOnly(2026, 1, 1), name, 0));
    }
}
