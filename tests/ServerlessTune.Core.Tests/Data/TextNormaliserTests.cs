using ServerlessTune.Core.Data.Normalisation;

namespace ServerlessTune.Core.Tests.Data;

public sealed class TextNormaliserTests
{
    [Theory]
    [InlineData("Cafe\u0301 au lait", "Caf\u00e9 au lait")]                       // NFC
    [InlineData("line one\r\nline two\rline three", "line one\nline two\nline three")]
    [InlineData("bell\u0007 and\u200B zero\u00A0width", "bell and zero width")]
    [InlineData("  too   many    spaces   \n\n\n\nnext paragraph  ", "too many spaces\n\nnext paragraph")]
    [InlineData("<p>Hello&nbsp;there,</p><p>see <a href=\"x\">the guide</a> &amp; FAQ.</p>", "Hello there,\n\nsee the guide & FAQ.")]
    [InlineData("<ul><li>one</li><li>two</li></ul>", "- one\n- two")]
    [InlineData("<script>alert(1)</script>Visible<!-- hidden -->", "Visible")]
    [InlineData("Use List<string> when a < b.", "Use List<string> when a < b.")]
    [InlineData("Escaped &lt;b&gt; stays text", "Escaped <b> stays text")]
    public void Text_is_normalised(string input, string expected) => Assert.Equal(expected, TextNormaliser.Normalise(input));

    [Fact]
    public void Fenced_code_keeps_its_indentation_spacing_blank_lines_and_markup()
    {
        string input = "Try this:\n\n```python\ndef f(a,  b):\n\n\n    return a  <b>  b\n```\nDone  now.";
        Assert.Equal("Try this:\n\n```python\ndef f(a,  b):\n\n\n    return a  <b>  b\n```\nDone now.", TextNormaliser.Normalise(input));
    }

    [Fact]
    public void Inline_code_spans_keep_html_like_text_and_list_indentation_stays()
    {
        string input = "Run `echo <b>&amp;</b>` then:\n  - step <b>one</b>\n    - nested";
        Assert.Equal("Run `echo <b>&amp;</b>` then:\n  - step one\n    - nested", TextNormaliser.Normalise(input));
    }
}
