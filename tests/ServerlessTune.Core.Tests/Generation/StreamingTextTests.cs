using Microsoft.ML.Tokenizers;
using ServerlessTune.Core.Generation;

namespace ServerlessTune.Core.Tests.Generation;

/// <summary>Streaming detokenisation with the real GPT-2 byte-level BPE, whose tokens split characters.</summary>
public class StreamingTextTests
{
    static readonly Tokenizer Gpt2 = TiktokenTokenizer.CreateForEncoding("r50k_base");
    const string Mixed = "héllo 👍🏽 wörld 你好";
    const string Family = "👨‍👩‍👧";

    static int[] Ids(string text) => [.. Gpt2.EncodeToIds(text)];

    static SequenceText Stream(params string[] stops) => new(Gpt2.Decode, new StopStrings(stops));

    [Fact]
    public void Decoder_holds_back_incomplete_utf8_until_a_later_token_completes_it()
    {
        var ids = Ids(Mixed);
        Assert.Equal(new[] { 71, 2634, 18798, 50169, 235, 8582, 237, 121, 266, 30570, 335, 220, 19526, 254, 25001, 121 }, ids);
        var decoder = new IncrementalDecoder(Gpt2.Decode);
        var deltas = ids.Select(decoder.Push).ToArray();
        Assert.Equal(new[] { "h", "é", "llo", "", " 👍", "", "", "🏽", " w", "ör", "ld", " ", "", "你", "", "好" }, deltas);
        Assert.Equal("", decoder.Flush());
        Assert.Equal(Mixed, decoder.Text);
    }

    [Fact]
    public void Decoder_flush_releases_an_unfinished_character_as_a_replacement_character()
    {
        var decoder = new IncrementalDecoder(Gpt2.Decode);
        Assert.Equal("h", decoder.Push(71));
        Assert.Equal("", decoder.Push(50169));
        Assert.Equal(" \uFFFD", decoder.Flush());
        Assert.Equal("h \uFFFD", decoder.Text);
    }

    [Fact]
    public void Stream_never_releases_part_of_a_character_or_of_an_emoji_cluster()
    {
        var stream = Stream();
        var deltas = Ids(Mixed).Select(stream.Push).ToList();
        Assert.Equal(new[] { "", "h", "éll", "", "o ", "", "", "", "👍🏽 ", "wö", "rl", "d", "", " ", "", "你" }, deltas);
        Assert.Equal("好", stream.Finish());
        Assert.Equal(Mixed, stream.Text);
    }

    [Fact]
    public void A_zwj_family_emoji_spread_over_ten_tokens_is_released_whole()
    {
        var stream = Stream();
        var ids = Ids(Family + " ok");
        var deltas = ids.Select(stream.Push).ToList();
        deltas.Add(stream.Finish());
        Assert.Equal(11, ids.Length);
        Assert.Equal(new[] { Family + " o", "k" }, deltas.Where(d => d.Length > 0));
    }

    [Fact]
    public void Stop_string_split_across_tokens_cuts_the_text_before_it()
    {
        var stream = Stream("\nUser:");
        var released = "";
        foreach (var id in Ids("The answer is 42.\nUser: hi"))
        {
            released += stream.Push(id);
            Assert.DoesNotContain("\n", released);
            if (stream.StoppedByString) break;
        }
        Assert.True(stream.StoppedByString);
        Assert.Equal("", stream.Finish());
        Assert.Equal("The answer is 42.", stream.Text);
        Assert.Equal(stream.Text, released);
        Assert.Throws<InvalidOperationException>(() => stream.Push(71));
    }

    [Fact]
    public void Stop_string_inside_one_token_cuts_inside_that_token()
    {
        var stream = Stream("wor");
        var released = string.Concat(Ids("Hello world").Select(stream.Push));
        Assert.True(stream.StoppedByString);
        Assert.Equal("Hello ", stream.Text);
        Assert.Equal("Hello ", released);
    }

    [Fact]
    public void The_earliest_of_several_stop_strings_wins()
    {
        var stream = Stream("world", "lo w");
        var released = string.Concat(Ids("Hello world").Select(stream.Push));
        Assert.Equal("Hel", stream.Text);
        Assert.Equal("Hel", released);
    }

    [Fact]
    public void Text_that_only_began_like_a_stop_string_is_released_in_full()
    {
        var stream = Stream("\nUser:");
        var text = "Hi\nUsers are here";
        var deltas = Ids(text).Select(stream.Push).ToList();
        deltas.Add(stream.Finish());
        Assert.False(stream.StoppedByString);
        Assert.Equal(text, string.Concat(deltas));
        Assert.Equal(text, stream.Text);
    }

    [Fact]
    public void Stop_strings_find_the_earliest_match_and_measure_partial_matches()
    {
        var stops = new StopStrings(["###", "<|im_end|>"]);
        Assert.Equal(6, stops.Find("hello ### world <|im_end|>", 0));
        Assert.Equal(2, stops.Find("ab###", 4));
        Assert.Equal(-1, stops.Find("ab##", 0));
        Assert.Equal(1, stops.PartialMatchLength("hello #"));
        Assert.Equal(2, stops.PartialMatchLength("hello ##"));
        Assert.Equal(4, stops.PartialMatchLength("x<|im"));
        Assert.Equal(0, stops.PartialMatchLength("hello"));
        Assert.Equal(0, new StopStrings([]).PartialMatchLength("hello #"));
    }
}
