namespace ServerlessTune.Serving.Hosted;

/// <summary>
/// The response body as a forwarded request writes it: every write goes on to the client at once (a stream stays a
/// stream) and is copied, up to a bound, for the conversation log to read once the response is complete.
/// </summary>
sealed class ResponseCapture(Stream inner, long maxBytes, Action firstWrite) : Stream
{
    readonly MemoryStream copy = new();
    bool written;

    public Stream Inner => inner;
    /// <summary>The response was longer than the bound: what was copied is only its beginning.</summary>
    public bool Truncated { get; private set; }
    public ReadOnlyMemory<byte> Captured => copy.GetBuffer().AsMemory(0, (int)copy.Length);

    void Keep(ReadOnlySpan<byte> bytes)
    {
        if (!written) { written = true; firstWrite(); }
        if (Truncated) return;
        if (copy.Length + bytes.Length > maxBytes) { Truncated = true; return; }
        copy.Write(bytes);
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default)
    {
        Keep(buffer.Span);
        await inner.WriteAsync(buffer, ct);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
        WriteAsync(buffer.AsMemory(offset, count), ct).AsTask();

    public override void Write(byte[] buffer, int offset, int count)
    {
        Keep(buffer.AsSpan(offset, count));
        inner.Write(buffer, offset, count);
    }

    public override Task FlushAsync(CancellationToken ct) => inner.FlushAsync(ct);
    public override void Flush() => inner.Flush();

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
