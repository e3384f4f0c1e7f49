namespace ServerlessTune.Core.Generation;

/// <summary>
/// Stop strings over decoded text rather than token ids: the model can spell "###" as one token or three,
/// and a stop string can straddle tokens, so only the text tells where it starts.
/// </summary>
public sealed class StopStrings(IReadOnlyList<string> stops)
{
    readonly int longest = stops.Count == 0 ? 0 : stops.Max(s => s.Length);

    /// <summary>
    /// Where the earliest stop string starts in <paramref name="text"/>, or -1. Only matches that end
    /// at or after <paramref name="newFrom"/> are looked for: text before it was searched already.
    /// </summary>
    public int Find(string text, int newFrom)
    {
        var from = Math.Max(0, newFrom - longest + 1);
        var earliest = -1;
        foreach (var stop in stops)
        {
            var at = text.IndexOf(stop, from, StringComparison.Ordinal);
            if (at >= 0 && (earliest < 0 || at < earliest)) earliest = at;
        }
        return earliest;
    }

    /// <summary>
    /// How many characters at the end of <paramref name="text"/> could be the start of a stop string;
    /// streaming holds them back until the next tokens decide.
    /// </summary>
    public int PartialMatchLength(string text)
    {
        var best = 0;
        foreach (var stop in stops)
            for (int length = Math.Min(stop.Length - 1, text.Length); length > best; length--)
                if (text.AsSpan(text.Length - length).SequenceEqual(stop.AsSpan(0, length)))
                {
                    best = length;
                    break;
                }
        return best;
    }
}
