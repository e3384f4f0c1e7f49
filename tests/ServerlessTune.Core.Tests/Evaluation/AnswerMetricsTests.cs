using ServerlessTune.Core.Evaluation;

namespace ServerlessTune.Core.Tests.Evaluation;

/// <summary>Expected values computed by hand from the SQuAD v2 script's and rouge_score's definitions.</summary>
public class AnswerMetricsTests
{
    [Theory]
    [InlineData("The Eiffel Tower!", "eiffel tower")]
    [InlineData("An apple, a day.", "apple day")]
    [InlineData("theater", "theater")] // articles go only as whole words
    [InlineData("«The» Zürich", "« » zürich")] // « and » are not ASCII punctuation, so they stay and "the" is a word
    [InlineData("  tabs\tand\nnewlines  ", "tabs and newlines")]
    public void Squad_normalisation_lowercases_strips_ascii_punctuation_and_articles(string input, string expected)
    {
        Assert.Equal(expected, AnswerNormalizer.NormalizeSquad(input));
    }

    [Fact]
    public void Information_separators_split_like_python_str_split()
    {
        Assert.Equal(["a1", "b2"], AnswerNormalizer.SquadTokens("a1\u001fb2"));
    }

    [Theory]
    [InlineData("", "", 1, 1)]
    [InlineData("", "Paris", 0, 0)]
    [InlineData("Paris", "", 0, 0)]
    [InlineData("...", "", 1, 1)] // punctuation-only normalises to empty
    [InlineData("?!", "the", 1, 1)] // an article alone is empty too
    [InlineData("!!!", "answer", 0, 0)]
    [InlineData("Zürich", "ZÜRICH", 1, 1)]
    [InlineData("«Paris»", "Paris", 0, 0)] // non-ASCII punctuation stays part of the token
    public void Exact_match_and_f1_edge_cases(string prediction, string reference, double exact, double f1)
    {
        Assert.Equal(exact, AnswerMetrics.ExactMatch(prediction, reference));
        Assert.Equal(f1, AnswerMetrics.F1(prediction, reference));
    }

    [Theory]
    // pred {cat, sat, on, mat} vs ref {cat, on, mat}: P = 3/4, R = 1 -> 6/7
    [InlineData("the cat sat on the mat", "a cat on a mat", 6.0 / 7)]
    // multisets: pred {yes:2, no:1}, ref {yes:1, no:2} -> overlap 2, P = R = 2/3
    [InlineData("yes yes no", "yes no no", 2.0 / 3)]
    // whitespace-separated CJK: pred 2 tokens, ref 1 -> P = 1/2, R = 1 -> 2/3
    [InlineData("東京 タワー", "東京", 2.0 / 3)]
    [InlineData("red", "blue", 0)]
    public void F1_over_token_multisets(string prediction, string reference, double expected)
    {
        Assert.Equal(expected, AnswerMetrics.F1(prediction, reference), 12);
    }

    [Theory]
    // LCS "police the gunman" = 3 of 4 and 4 -> 0.75
    [InlineData("police killed the gunman", "police kill the gunman", 0.75)]
    // LCS "the gunman" = 2 of 4 and 4 -> 0.5
    [InlineData("the gunman kill police", "police kill the gunman", 0.5)]
    [InlineData("«Paris»", "PARIS", 1)] // tokens are ASCII alphanumeric runs
    [InlineData("café", "cafe", 0)] // "caf" != "cafe"
    [InlineData("東京", "東京", 0)] // no ASCII tokens on either side: 0, as rouge_score
    [InlineData("", "", 0)]
    [InlineData("Paris", "", 0)]
    public void RougeL_f1_from_longest_common_subsequence(string prediction, string reference, double expected)
    {
        Assert.Equal(expected, AnswerMetrics.RougeL(prediction, reference), 12);
    }

    [Fact]
    public void Each_metric_takes_its_own_best_reference()
    {
        // F1: "big dog" -> P 2/3, R 1 = 0.8; "red dog big" -> 1.0.
        // ROUGE-L: "big dog" -> LCS 2, P 2/4, R 1 = 2/3; "red dog big" -> LCS 2, P 2/4, R 2/3 = 4/7.
        var scores = AnswerMetrics.Score("the big red dog", ["big dog", "red dog big"]);
        Assert.Equal(0, scores.ExactMatch);
        Assert.Equal(1, scores.F1, 12);
        Assert.Equal(2.0 / 3, scores.RougeL, 12);
    }

    [Fact]
    public void Matching_any_reference_gives_full_marks()
    {
        Assert.Equal(new AnswerScores(1, 1, 1), AnswerMetrics.Score("Paris.", ["London", "Paris, France", "paris"]));
    }

    [Fact]
    public void Empty_references_count_only_when_all_references_are_empty()
    {
        // As the SQuAD v2 script: a blank gold answer among real ones is dropped.
        Assert.Equal(new AnswerScores(0, 0, 0), AnswerMetrics.Score("", ["", "Paris"]));
        Assert.Equal(new AnswerScores(1, 1, 0), AnswerMetrics.Score("", [""]));
        Assert.Equal(new AnswerScores(0, 0, 0), AnswerMetrics.Score("Paris", ["", " "]));
    }
}
