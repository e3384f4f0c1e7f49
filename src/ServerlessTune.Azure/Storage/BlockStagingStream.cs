using System.Text;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;

namespace ServerlessTune.Azure.Storage;

/// <summary>
/// A write-only stream that stages everything written to it as uncommitted blocks of one block blob.
/// Nothing is visible until <see cref="CommitAsync"/>; disposing without committing leaves only
/// uncommitted blocks, which the service discards on its own. (BlockBlobClient.OpenWrite would commit
/// on dispose, also after a failed writer, which is exactly what an atomic write must not do.)
/// </summary>
sealed class BlockStagingStream(BlockBlobClient blob) : Stream
{
    const int BlockSize = 4 << 20;
    // Block ids must all have the same length within a blob; a per-writer prefix keeps two concurrent
    // writers of the same blob from staging over each other's blocks.
    readonly string _writer = Guid.NewGuid().ToString("N");
    readonly List<string> _blockIds = [];
    MemoryStream _buffer = new();
    long _length;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => _length;
    public override long Position { get => _length; set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) =>
        WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (buffer.Length > 0)
        {
            int take = (int)Math.Min(buffer.Length, BlockSize - _buffer.Length);
            _buffer.Write(buffer.Span[..take]);
            buffer = buffer[take..];
            _length += take;
            if (_buffer.Length == BlockSize) await StageBufferAsync(cancellationToken);
        }
    }

    public async Task CommitAsync(CancellationToken cancellationToken)
    {
        if (_buffer.Length > 0) await StageBufferAsync(cancellationToken);
        await blob.CommitBlockListAsync(_blockIds, new CommitBlockListOptions(), cancellationToken);
    }

    async Task StageBufferAsync(CancellationToken cancellationToken)
    {
        string id = Convert.ToBase64String(Encoding.ASCII.GetBytes($"{_writer}-{_blockIds.Count:D6}"));
        _buffer.Position = 0;
        await blob.StageBlockAsync(id, _buffer, new BlockBlobStageBlockOptions(), cancellationToken);
        _blockIds.Add(id);
        _buffer = new MemoryStream();
    }

    public override void Flush() { }
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) _buffer.Dispose();
        base.Dispose(disposing);
    }
}
