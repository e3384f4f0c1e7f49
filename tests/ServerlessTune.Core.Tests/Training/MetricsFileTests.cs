using ServerlessTune.Core.Storage;
using ServerlessTune.Core.Training;

namespace ServerlessTune.Core.Tests.Training;

public sealed class MetricsFileTests
{
    [Fact]
    public void A_last_line_still_being_written_is_skipped()
    {
        var records = MetricsFile.Read(new StringReader("{\"kind\":\"train\",\"step\":1,\"loss\":2.5}\n{\"kind\":\"train\",\"st"), "metrics.jsonl");

        Assert.Equal(1, Assert.Single(records).Step);
    }

    [Fact]
    public void A_torn_line_before_the_last_is_an_error_naming_it()
    {
        var error = Assert.Throws<UserInputException>(() =>
            MetricsFile.Read(new StringReader("{\"step\":1,\"loss\":2.5}\n{\"st\n{\"step\":3,\"loss\":2}\n"), "metrics.jsonl"));

        Assert.StartsWith("metrics.jsonl:2: invalid JSON", error.Message);
    }

    [Fact]
    public void What_the_writer_writes_reads_back_including_a_diverged_loss()
    {
        using var dir = new TempDir();
        using (var writer = new MetricsWriter(dir.Path, resumeFromStep: null))
        {
            writer.Write(new MetricRecord { Kind = MetricRecord.TrainKind, Step = 1, TotalSteps = 2, Epoch = 0.5, Loss = 2.5, Tokens = 5_000_000_000 });
            writer.Write(new MetricRecord { Kind = MetricRecord.TrainKind, Step = 2, TotalSteps = 2, Epoch = 1, Loss = double.NaN });
        }

        var records = MetricsFile.Read(dir.File(RunPaths.MetricsFile));

        Assert.Equal([1, 2], records.Select(r => r.Step));
        Assert.Equal(5_000_000_000, records[0].Tokens);
        Assert.True(double.IsNaN(records[1].Loss!.Value));
    }

    [Fact]
    public async Task A_run_without_metrics_yet_has_none()
    {
        using var dir = new TempDir();
        Assert.Empty(await MetricsFile.ReadAsync(new LocalFolderStore(dir.Path), ArtifactLayout.Run("r1").Metrics));
    }
}
