using System.Security.Cryptography;
using System.Threading.Channels;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Core.Data.Output;

/// <summary>
/// Streams one output artifact through <see cref="IArtifactStore.WriteAsync"/> while the caller is still
/// producing it, so outputs never sit whole in memory and the store's atomic commit happens only on
/// <see cref="CompleteAsync"/>. <see cref="AbortAsync"/> makes the store discard the partial artifact.
/// Also hashes what it writes, for the manifest.
/// </summary>
public sealed class ArtifactStreamWriter
{
    const int ChunkSize = 1 << 16;

    readonly Channel<byte[]> _chunks = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(8) { SingleReader = true, SingleWriter = true });
    readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    readonly MemoryStream _pending = new();
    readonly Task _write;
    long _size;

    /// <param name="store">Null for a dry run: the bytes are counted and hashed, and go nowhere.</param>
    /// <param name="name">The artifact's name under <paramref name="prefix"/>; the manifest lists it by this name.</param>
    public ArtifactStreamWriter(IArtifactStore? store, string prefix, string name, CancellationToken ct)
    {
        Name = name;
        _write = store is null
            ? Task.Run(async () => { await foreach (var _ in _chunks.Reader.ReadAllAsync(ct)) { } }, ct)
            : store.WriteAsync(prefix + name, async (stream, token) =>
            {
                await foreach (var chunk in _chunks.Reader.ReadAllAsync(token))
                    await stream.WriteAsync(chunk, token);
            }, ct);
    }

    public string Name { get; }

    public async ValueTask WriteAsync(byte[] bytes, CancellationToken ct)
    {
        _pending.Write(bytes);
        _sha.AppendData(bytes);
        _size += bytes.Length;
        if (_pending.Length >= ChunkSize) await FlushAsync(ct);
    }

    /// <summary>Commits the artifact and returns its size and SHA-256.</summary>
    public async Task<OutputFile> CompleteAsync(CancellationToken ct)
    {
        await FlushAsync(ct);
        _chunks.Writer.Complete();
        await _write;
        return new OutputFile(Name, _size, Convert.ToHexStringLower(_sha.GetHashAndReset()));
    }

    /// <summary>Fails the write so the store keeps no partial artifact; waits for the store to clean up.</summary>
    public async Task AbortAsync(Exception reason)
    {
        _chunks.Writer.TryComplete(reason);
        try { await _write; }
        catch (Exception) { /* the failure being reported is the caller's, not this echo of it */ }
    }

    async ValueTask FlushAsync(CancellationToken ct)
    {
        if (_pending.Length == 0) return;
        await _chunks.Writer.WriteAsync(_pending.ToArray(), ct);
        _pending.SetLength(0);
    }
}

/// <summary>An output artifact by its name relative to the output prefix, so the manifest does not depend on the run id.</summary>
public sealed record OutputFile(string Path, long Size, string Sha256);
