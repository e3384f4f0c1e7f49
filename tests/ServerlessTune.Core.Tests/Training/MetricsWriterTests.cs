using ServerlessTune.Core.Storage;
using ServerlessTune.Core.Training;

namespace ServerlessTune.Core.Tests.Training;

public class MetricsWriterTests
{
    [Fact]
    public void Resume_drops_lines_after_the_checkpoint_and_a_torn_last_line()
    {
        using var dir = new TempDir();
        using (var writer = new MetricsWriter(dir.Path, resumeFromStep: null))
            for (int step = 1; step <= 4; step++)
                writer.Write(new MetricRecord { Kind = MetricRecord.TrainKind, Step = step, Epoch = 0, Loss = step });
        File.AppendAllText(dir.File(RunPaths.MetricsFile), "{\"kind\":\"train\",\"st");

        using (var writer = new MetricsWriter(dir.Path, resumeFromStep: 2))
            writer.Write(new MetricRecord { Kind = MetricRecord.EvalKind, Step = 3, Epoch = 0.5, ValLoss = 1.5 });

        var records = MetricsFile.Read(dir.File(RunPaths.MetricsFile));
        Assert.Equal([1, 2, 3], records.Select(r => r.Step));
        Assert.Equal(MetricRecord.EvalKind, records[2].Kind);
        Assert.Equal(1.5, records[2].ValLoss);
        Assert.Contains("\"val_loss\":1.5", File.ReadAllText(dir.File(RunPaths.MetricsFile)));
    }

    [Fact]
    public void A_fresh_run_starts_an_empty_file()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File(RunPaths.MetricsFile), "{\"kind\":\"train\",\"step\":1,\"epoch\":0}\n");
        using (new MetricsWriter(dir.Path, resumeFromStep: null)) { }
        Assert.Empty(MetricsFile.Read(dir.File(RunPaths.MetricsFile)));
    }
}
