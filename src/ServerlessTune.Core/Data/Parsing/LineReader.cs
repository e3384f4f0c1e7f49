namespace ServerlessTune.Core.Data.Parsing;

/// <summary>One physical line: its bytes without the line end, or null when it exceeded the size limit.</summary>
public readonly record struct TextLine(long Number, byte[]? Bytes, long Length, int QuoteCount)
{
    public bool TooLarge => Bytes is null;
}

/// <summary>
/// Reads '\n'-terminated lines as bytes, dropping a trailing '\r' and a leading UTF-8 BOM. A line longer
/// than the limit is skipped while reading (only its length and quote count are kept), so one huge line
/// never lands in memory. Bytes are not decoded here: callers decide how to treat invalid UTF-8.
/// </summary>
public sealed class LineReader(Stream stream, int maxLineBytes)
{
    readonly byte[] _buffer = new byte[1 << 16];
    int _start, _end;
    bool _eof, _started;
    long _number;
    readonly MemoryStream _pending = new();

    public async ValueTask<TextLine?> ReadLineAsync(CancellationToken ct = default)
    {
        _pending.SetLength(0);
        long length = 0;
        int quotes = 0;
        bool tooLarge = false;
        while (true)
        {
            int newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            int stop = newline >= 0 ? newline : _end;
            var chunk = _buffer.AsSpan(_start, stop - _start);
            length += chunk.Length;
            quotes += chunk.Count((byte)'"');
            if (!tooLarge && length > maxLineBytes)
            {
                tooLarge = true;
                _pending.SetLength(0);
            }
            if (newline >= 0 && _pending.Length == 0 && !tooLarge)
            {
                // The common case, a line inside the buffer: copied once, straight into its array.
                _start = stop + 1;
                _number++;
                if (chunk.Length > 0 && chunk[^1] == (byte)'\r') chunk = chunk[..^1];
                return new TextLine(_number, chunk.ToArray(), chunk.Length, quotes);
            }
            if (!tooLarge) _pending.Write(chunk);
            _start = stop;
            if (newline >= 0)
            {
                _start++;
                return Finish(length, quotes, tooLarge);
            }
            if (_eof)
                return length > 0 ? Finish(length, quotes, tooLarge) : null;
            await FillAsync(ct);
        }
    }

    TextLine Finish(long length, int quotes, bool tooLarge)
    {
        _number++;
        if (tooLarge) return new TextLine(_number, null, length, quotes);
        int n = (int)_pending.Length;
        var bytes = _pending.GetBuffer();
        if (n > 0 && bytes[n - 1] == (byte)'\r') n--;
        return new TextLine(_number, bytes.AsSpan(0, n).ToArray(), n, quotes);
    }

    async ValueTask FillAsync(CancellationToken ct)
    {
        _start = _end = 0;
        int read = await stream.ReadAsync(_buffer, ct);
        if (read == 0) { _eof = true; return; }
        _end = read;
        if (!_started)
        {
            _started = true;
            if (read >= 3 && _buffer[0] == 0xEF && _buffer[1] == 0xBB && _buffer[2] == 0xBF) _start = 3;
        }
    }
}
