using System.Security.Cryptography;

namespace ServerlessTune.Core.Data.Parsing;

/// <summary>
/// A read-once view of an input file that lets the format detector peek at the head, and hashes and
/// counts every byte on the way through, so the manifest's SHA-256 and size cost no second read.
/// </summary>
public sealed class InputStream : Stream
{
    public const int HeadSize = 1 << 16;

    readonly Stream _inner;
    readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    byte[] _head = [];
    int _headPos;
    long _position;

    InputStream(Stream inner) => _inner = inner;

    public static async Task<InputStream> OpenAsync(Stream inner, CancellationToken ct)
    {
        var stream = new InputStream(inner);
        var head = new byte[HeadSize];
        int filled = 0;
        while (filled < head.Length)
        {
            int n = await inner.ReadAsync(head.AsMemory(filled), ct);
            if (n == 0) break;
            filled += n;
        }
        stream._head = head[..filled];
        stream._sha.AppendData(stream._head);
        return stream;
    }

    /// <summary>The first bytes of the file (up to <see cref="HeadSize"/>), as read before any consumer.</summary>
    public ReadOnlySpan<byte> Head => _head;

    /// <summary>Bytes handed to the consumer so far.</summary>
    public long BytesRead => _position;

    /// <summary>Reads what the consumer left unread, so the hash and size cover the whole file.</summary>
    public async Task<(long Size, string Sha256)> FinishAsync(CancellationToken ct)
    {
        var scratch = new byte[1 << 16];
        while (await ReadAsync(scratch, ct) > 0) { }
        return (_position, Convert.ToHexStringLower(_sha.GetHashAndReset()));
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
    {
        int n;
        if (_headPos < _head.Length)
        {
            n = Math.Min(buffer.Length, _head.Length - _headPos);
            _head.AsMemory(_headPos, n).CopyTo(buffer);
            _headPos += n;
        }
        else
        {
            n = await _inner.ReadAsync(buffer, ct);
            _sha.AppendData(buffer.Span[..n]);
        }
        _position += n;
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
        ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

    protected override void Dispose(bool disposing)
    {
        if (disposing) { _inner.Dispose(); _sha.Dispose(); }
        base.Dispose(disposing);
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _position; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
