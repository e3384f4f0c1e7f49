using ServerlessTune.Core.Evaluation;

namespace ServerlessTune.Core.Tests.Evaluation;

public class TrainingCurveTests
{
    [Fact]
    public void Reads_training_and_validation_lines_and_counts_the_others()
    {
        var curve = TrainingCurve.Parse(new StringReader("""
            {"kind":"train","step":1,"epoch":0.1,"loss":4.5,"learning_rate":0.001}
            {"kind":"eval","step":1,"epoch":0.1,"val_loss":4.75,"val_perplexity":115.58}
            {"kind":"checkpoint","step":1}
            {"kind":"train","step":2,"epoch":0.2,"loss":"NaN"}
            """), "metrics.jsonl");
        Assert.Equal(3, curve.Points.Count);
        Assert.Equal(new TrainingPoint(1, 4.5, null), curve.Points[0]);
        Assert.Equal(new TrainingPoint(1, null, 4.75), curve.Points[1]);
        Assert.True(double.IsNaN(curve.Points[2].Loss!.Value));
        Assert.Equal(1, curve.OtherLines);
    }

    [Theory]
    [InlineData("{\"loss\":1.5}", "metrics.jsonl:1: step: missing")]
    [InlineData("{\"step\":1.5,\"loss\":1}", "metrics.jsonl:1: step: expected a whole number >= 0, got 1.5")]
    [InlineData("{\"step\":1,\"loss\":\"low\"}", "metrics.jsonl:1: loss: expected a number, got \"low\"")]
    [InlineData("{\"step\":1,\"val_loss\":[1]}", "metrics.jsonl:1: val_loss: expected a number, got an array")]
    public void Bad_lines_name_line_and_key(string line, string expected)
    {
        var error = Assert.Throws<UserInputException>(() => TrainingCurve.Parse(new StringReader(line), "metrics.jsonl"));
        Assert.Equal(expected, error.Message);
    }

    [Fact]
    public void Chart_maps_steps_and_losses_onto_the_plot_area()
    {
        var curve = new TrainingCurve("m", [new(0, 4, null), new(10, 2, null), new(10, null, 3), new(5, double.PositiveInfinity, null)], 0);
        var svg = LossChart.Render(curve)!;
        // x: steps 0..10 onto 56..624. y: losses 2..4, padded by 5% to 1.9..4.1, onto the 264 px below y = 16:
        // 4 -> 16 + 0.1/2.2*264 = 28, 2 -> 268, 3 -> 148. The infinite loss is left out.
        Assert.Contains("<polyline class=\"loss\" fill=\"none\" points=\"56,28 624,268\"/>", svg);
        Assert.Contains("<polyline class=\"val-loss\" fill=\"none\" points=\"624,148\"/>", svg);
        Assert.Contains("<circle class=\"val-loss\" r=\"3\" cx=\"624\" cy=\"148\"/>", svg);
        // Round ticks: losses every 0.5 from 2 to 4, steps every 2 from 0 to 10.
        Assert.Equal(["2", "2.5", "3", "3.5", "4", "0", "2", "4", "6", "8", "10", "step"],
            System.Text.RegularExpressions.Regex.Matches(svg, "<text [^>]*>([^<]*)</text>").Select(m => m.Groups[1].Value).SkipLast(2));
    }

    [Fact]
    public void Chart_is_absent_without_finite_losses()
    {
        Assert.Null(LossChart.Render(new TrainingCurve("m", [new(1, double.NaN, null)], 0)));
    }
}
