using System.Security.Cryptography;
using System.Text;

namespace ServerlessTune.Core.Data.Parsing;

/// <summary>
/// A read-once view of an input file that lets the format detector peek at the head, and hashes and counts every
/// byte of the file on the way through, so the manifest's SHA-256 and size cost no second read. A file that starts
/// with a UTF-16 or UTF-32 byte-order mark is handed on as UTF-8 (the hash and size stay those of the file's bytes),
/// so every reader downstream sees one encoding.
/// </summary>
public sealed class InputStream : ReadOnlyStream
{
    public const int HeadSize = 1 << 16;

    readonly HashingStream _raw;
    readonly Stream _content;
    byte[] _head = [];
    int _headPos;
    long _position;

    InputStream(HashingStream raw, Stream content, string encoding)
    {
        _raw = raw;
        _content = content;
        Encoding = encoding;
    }

    /// <summary>The file's encoding as its byte-order mark says: utf-8 (also without a mark), utf-16le, utf-16be, utf-32le, utf-32be.</summary>
    public string Encoding { get; }

    public static async Task<InputStream> OpenAsync(Stream inner, CancellationToken ct)
    {
        var raw = new HashingStream(inner);
        var mark = new byte[4];
        int marked = await FillAsync(raw, mark, ct);
        mark = mark[..marked];
        var (encoding, name) = WideEncoding(mark);
        Stream content = new PrefixedStream(mark, raw);
        if (encoding is not null) content = System.Text.Encoding.CreateTranscodingStream(content, encoding, System.Text.Encoding.UTF8);
        var stream = new InputStream(raw, content, name);
        var head = new byte[HeadSize];
        stream._head = head[..await FillAsync(content, head, ct)];
        return stream;
    }

    static (Encoding? Encoding, string Name) WideEncoding(ReadOnlySpan<byte> mark) => mark switch
    {
        [0xFF, 0xFE, 0, 0] => (new UTF32Encoding(bigEndian: false, byteOrderMark: true), "utf-32le"),
        [0, 0, 0xFE, 0xFF] => (new UTF32Encoding(bigEndian: true, byteOrderMark: true), "utf-32be"),
        [0xFF, 0xFE, ..] => (new UnicodeEncoding(bigEndian: false, byteOrderMark: true), "utf-16le"),
        [0xFE, 0xFF, ..] => (new UnicodeEncoding(bigEndian: true, byteOrderMark: true), "utf-16be"),
        _ => (null, "utf-8"),
    };

    static async Task<int> FillAsync(Stream stream, byte[] buffer, CancellationToken ct)
    {
        int filled = 0;
        while (filled < buffer.Length)
        {
            int n = await stream.ReadAsync(buffer.AsMemory(filled), ct);
            if (n == 0) break;
            filled += n;
        }
        return filled;
    }

    /// <summary>The first bytes of the content (up to <see cref="HeadSize"/>, as UTF-8 for a wide encoding), as read before any consumer.</summary>
    public ReadOnlySpan<byte> Head => _head;

    /// <summary>Bytes of the file read so far.</summary>
    public long BytesRead => _raw.Count;

    /// <summary>Reads what the consumer left unread, so the hash and size cover the whole file.</summary>
    public async Task<(long Size, string Sha256)> FinishAsync(CancellationToken ct)
    {
        var scratch = new byte[1 << 16];
        while (await _raw.ReadAsync(scratch, ct) > 0) { }
        return (_raw.Count, _raw.Hash());
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
        else n = await _content.ReadAsync(buffer, ct);
        _position += n;
        return n;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) { _content.Dispose(); _raw.Dispose(); }
        base.Dispose(disposing);
    }

    public override long Position { get => _position; set => throw new NotSupportedException(); }

    /// <summary>Counts and hashes the file's own bytes as anything reads them.</summary>
    sealed class HashingStream(Stream inner) : ReadOnlyStream
    {
        readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        public long Count { get; private set; }

        public string Hash() => Convert.ToHexStringLower(_sha.GetHashAndReset());

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            int n = await inner.ReadAsync(buffer, ct);
            _sha.AppendData(buffer.Span[..n]);
            Count += n;
            return n;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) { inner.Dispose(); _sha.Dispose(); }
            base.Dispose(disposing);
        }
    }

    /// <summary>The bytes read ahead to find a byte-order mark, then the rest of the file.</summary>
    sealed class PrefixedStream(byte[] prefix, Stream rest) : ReadOnlyStream
    {
        int _used;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            if (_used >= prefix.Length) return await rest.ReadAsync(buffer, ct);
            int n = Math.Min(buffer.Length, prefix.Length - _used);
            prefix.AsMemory(_used, n).CopyTo(buffer);
            _used += n;
            return n;
        }
    }
}
