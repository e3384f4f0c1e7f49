namespace ServerlessTune.Core.Tokenization;

/// <summary>
/// GPT-2's byte-to-unicode table: byte-level BPE vocabularies (tokenizer.json, vocab.json) spell every
/// byte as a printable character so tokens are JSON strings ("Ġ" is the space byte). Same table as
/// bytes_to_unicode() in OpenAI's GPT-2 encoder.py and in Transformers.
/// </summary>
internal static class ByteLevelAlphabet
{
    private static readonly char[] ByteToChar = BuildTable();

    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        var chars = new char[bytes.Length];
        for (var i = 0; i < bytes.Length; i++)
            chars[i] = ByteToChar[bytes[i]];
        return new string(chars);
    }

    private static char[] BuildTable()
    {
        var table = new char[256];
        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            // Printable Latin-1 bytes keep their own code point; the rest move above 255 in byte order.
            var printable = (b >= '!' && b <= '~') || (b >= '¡' && b <= '¬') || (b >= '®' && b <= 'ÿ');
            table[b] = printable ? (char)b : (char)next++;
        }
        return table;
    }
}
