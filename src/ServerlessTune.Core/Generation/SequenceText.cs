using System.Globalization;

namespace ServerlessTune.Core.Generation;

/// <summary>
/// The text of one generated sequence, released as deltas that are safe to show: never part of a
/// UTF-8 character, never part of a user-perceived character (an emoji with a skin tone or a ZWJ family
/// is one grapheme cluster spread over several tokens, so the last cluster waits until the next one
/// starts), and never text that may turn out to begin a stop string. The deltas concatenate to Text.
/// </summary>
public sealed class SequenceText(Func<IEnumerable<int>, string> decode, StopStrings stops)
{
    readonly IncrementalDecoder decoder = new(decode);
    string text = "";
    int searched;
    int emitted;

    /// <summary>True once a stop string appeared; Text then ends just before it.</summary>
    public bool StoppedByString { get; private set; }

    public string Text => StoppedByString ? text : text[..emitted];

    /// <summary>Adds a generated token and returns the text now safe to show (often empty).</summary>
    public string Push(int tokenId)
    {
        if (StoppedByString) throw new InvalidOperationException("the sequence already ended at a stop string");
        if (decoder.Push(tokenId).Length == 0) return "";
        text = decoder.Text;
        if (CutAtStopString()) return Release(text.Length);
        var safe = text.Length - stops.PartialMatchLength(text);
        return Release(CompleteClustersEnd(safe));
    }

    /// <summary>Ends the sequence and returns everything not yet released.</summary>
    public string Finish()
    {
        if (StoppedByString) return "";
        decoder.Flush();
        text = decoder.Text;
        CutAtStopString();
        return Release(text.Length);
    }

    bool CutAtStopString()
    {
        var at = stops.Find(text, searched);
        searched = text.Length;
        if (at < 0) return false;
        text = text[..at];
        StoppedByString = true;
        return true;
    }

    /// <summary>The end of the last grapheme cluster that lies within <paramref name="limit"/> and is
    /// followed by another cluster (so nothing later can extend it).</summary>
    int CompleteClustersEnd(int limit)
    {
        var position = emitted;
        while (position < limit)
        {
            var next = position + StringInfo.GetNextTextElementLength(text.AsSpan(position));
            if (next >= text.Length || next > limit) break;
            position = next;
        }
        return position;
    }

    string Release(int end)
    {
        if (end <= emitted) return "";
        var delta = text[emitted..end];
        emitted = end;
        return delta;
    }
}
