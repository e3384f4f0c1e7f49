using ServerlessTune.Core.Evaluation;

namespace ServerlessTune.Core.Tests.Evaluation;

public class PredictionScorerTests : IDisposable
{
    readonly TempDir _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void Means_over_predictions_match_hand_computed_values()
    {
        var predictions = _files.Write("p.jsonl", """
            {"id":"q1","prediction":"The Eiffel Tower"}
            {"id":"q2","prediction":"the cat sat on the mat"}

            {"id":"q3","prediction":"..."}
            {"id":"q4","prediction":"Zürich"}
            """);
        var references = _files.Write("r.jsonl", """
            {"id":"q4","references":["zürich","Zurich"]}
            {"id":"q3","references":[""]}
            {"id":"q2","references":["a cat on a mat"]}
            {"id":"q1","references":["Paris","eiffel tower"]}
            """);

        var summary = PredictionScorer.Score(predictions, references);

        // EM: 1, 0, 1, 1. F1: 1, 6/7, 1, 1.
        // ROUGE-L: q1 [eiffel tower] in [the eiffel tower]: P 2/3, R 1 -> 0.8;
        // q2 LCS 3 over 6 and 5 tokens: P 1/2, R 3/5 -> 6/11; q3 no tokens -> 0;
        // q4 "zürich" splits into [z, rich] on both sides -> 1 (against "Zurich" it would be 0).
        Assert.Equal(4, summary.Count);
        Assert.Equal(3.0 / 4, summary.ExactMatch, 12);
        Assert.Equal((3 + 6.0 / 7) / 4, summary.F1, 12);
        Assert.Equal((0.8 + 6.0 / 11 + 0 + 1) / 4, summary.RougeL, 12);
    }

    [Theory]
    [InlineData("{\"id\":\"q1\",\"prediction\":\"x\"}\n{\"id\":\"q9\",\"prediction\":\"y\"}", "p.jsonl:2: id 'q9' has no references in")]
    [InlineData("{\"id\":\"q1\",\"prediction\":\"x\"}\n{\"id\":\"q1\",\"prediction\":\"y\"}", "p.jsonl:2: id: duplicate id 'q1' (first seen on line 1)")]
    [InlineData("{\"id\":\"q1\",\"prediction\":\"x\"}\n{\"id\":\"q2\",\"prediction\":", "p.jsonl:2: invalid JSON")]
    [InlineData("{\"id\":\"q1\",\"prediction\":\"x\"}\n[1,2]", "p.jsonl:2: expected a JSON object, got an array")]
    [InlineData("{\"id\":\"q1\",\"prediction\":\"x\"}\n{\"id\":\"q2\",\"prediction\":3}", "p.jsonl:2: prediction: expected a string, got the number 3")]
    [InlineData("{\"id\":\"q1\",\"prediction\":\"x\"}\n{\"prediction\":\"y\"}", "p.jsonl:2: id: missing")]
    [InlineData("{\"id\":\"q1\",\"prediction\":\"x\"}", "r.jsonl:2: id 'q2' has no prediction in")]
    public void Bad_predictions_name_file_line_and_reason(string predictions, string expected)
    {
        var p = _files.Write("p.jsonl", predictions);
        var r = _files.Write("r.jsonl", "{\"id\":\"q1\",\"references\":[\"a\"]}\n{\"id\":\"q2\",\"references\":[\"b\"]}\n");
        var error = Assert.Throws<UserInputException>(() => PredictionScorer.Score(p, r));
        Assert.Contains(expected, error.Message);
    }

    [Theory]
    [InlineData("{\"id\":\"q1\",\"references\":[]}", "r.jsonl:1: references: empty")]
    [InlineData("{\"id\":\"q1\"}", "r.jsonl:1: references: missing")]
    [InlineData("{\"id\":\"q1\",\"references\":[\"a\",7]}", "r.jsonl:1: references[1]: expected a string")]
    public void Bad_references_name_file_line_and_key(string references, string expected)
    {
        var p = _files.Write("p.jsonl", "{\"id\":\"q1\",\"prediction\":\"x\"}");
        var r = _files.Write("r.jsonl", references);
        var error = Assert.Throws<UserInputException>(() => PredictionScorer.Score(p, r));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Empty_files_are_an_error_not_a_zero_score()
    {
        var p = _files.Write("p.jsonl", "\n");
        var r = _files.Write("r.jsonl", "");
        var error = Assert.Throws<UserInputException>(() => PredictionScorer.Score(p, r));
        Assert.Contains("no predictions", error.Message);
    }

    [Fact]
    public void Missing_file_is_a_user_error()
    {
        var r = _files.Write("r.jsonl", "");
        var error = Assert.Throws<UserInputException>(() => PredictionScorer.Score(Path.Combine(_files.Path, "nope.jsonl"), r));
        Assert.Contains("nope.jsonl: cannot read", error.Message);
    }
}
