using TorchSharp;
using ServerlessTune.Core.Modeling.Layers;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Modeling;

/// <summary>
/// The cache of a continuous-batching engine: per layer one preallocated [slots, KV heads, positions, head dim]
/// pair, and per slot its own length. A sequence acquires the lowest free slot, so the live slots stay packed at
/// the front and a pass runs on the contiguous range [first, first + count) as a view, without gathering rows.
/// Joining and leaving are O(1): a slot is reset by setting its length, never by moving tensors.
/// Rows of the range that hold no sequence run as scratch at position 0; their outputs are meaningless.
/// </summary>
public sealed class SlotKvCache : KvCache
{
    readonly Tensor[] keys;
    readonly Tensor[] values;
    readonly long[] lengths;
    readonly bool[] used;
    int first, count;
    Pass? pass;

    public SlotKvCache(ModelConfig config, ScalarType dtype, int slots, int positions)
    {
        if (slots < 1) throw new ArgumentOutOfRangeException(nameof(slots), slots, "at least one slot");
        if (positions < 1 || positions > config.MaxPositions)
            throw new ArgumentOutOfRangeException(nameof(positions), positions, $"between 1 and the model's {config.MaxPositions} positions");
        Slots = slots;
        Positions = positions;
        keys = new Tensor[config.NumLayers];
        values = new Tensor[config.NumLayers];
        for (int layer = 0; layer < config.NumLayers; layer++)
        {
            keys[layer] = zeros([slots, config.NumKvHeads, positions, config.HeadDim], dtype).DetachFromDisposeScope();
            values[layer] = zeros([slots, config.NumKvHeads, positions, config.HeadDim], dtype).DetachFromDisposeScope();
        }
        lengths = new long[slots];
        used = new bool[slots];
    }

    public int Slots { get; }

    /// <summary>Positions one slot holds: a sequence's prompt and output together never exceed it.</summary>
    public int Positions { get; }

    /// <summary>One past the highest slot in use (0 when none is): the range a decode pass covers.</summary>
    public int End
    {
        get
        {
            int end = Slots;
            while (end > 0 && !used[end - 1]) end--;
            return end;
        }
    }

    public int FreeSlots => used.Count(u => !u);

    public long LengthOf(int slot) => lengths[slot];

    /// <summary>The lowest free slot, now empty and in use; null when every slot is taken.</summary>
    public int? Acquire()
    {
        int slot = Array.IndexOf(used, false);
        if (slot < 0) return null;
        used[slot] = true;
        lengths[slot] = 0;
        return slot;
    }

    public void Release(int slot)
    {
        used[slot] = false;
        lengths[slot] = 0;
    }

    /// <summary>The rows of the next forward pass: row r is slot first + r, continuing from that slot's length.</summary>
    public void Select(int firstSlot, int rows)
    {
        if (firstSlot < 0 || rows < 1 || firstSlot + rows > Slots)
            throw new ArgumentOutOfRangeException(nameof(rows), $"slots {firstSlot}..{firstSlot + rows - 1} outside 0..{Slots - 1}");
        (first, count) = (firstSlot, rows);
    }

    internal override AttentionContext Begin(long batch, long length, Tensor? attentionMask, int? slidingWindow)
    {
        if (attentionMask is not null)
            throw new ArgumentException("a slot cache keeps each row's length itself; pass no attention_mask");
        var pasts = Advance(batch, length);
        long attend = pasts.Max() + length;
        bool samePast = pasts.All(p => p == pasts[0]);
        pass?.Positions?.Dispose();
        var positions = (tensor(pasts).unsqueeze(1) + arange(length, dtype: int64).unsqueeze(0)).DetachFromDisposeScope();
        pass = new Pass(pasts, samePast, length, attend, positions, slidingWindow);
        bool windowBinds = slidingWindow is int w && attend > w;
        // The growing cache's cases, so a lone sequence computes exactly what it computes there.
        if (samePast && !windowBinds && (length == 1 || pasts[0] == 0))
            return new AttentionContext(positions, null, IsCausal: length > 1, pasts[0]);
        var queries = positions.unsqueeze(1).unsqueeze(-1);                     // [B, 1, T, 1]
        var keyIndex = arange(attend, dtype: int64).view(1, 1, 1, attend);      // [1, 1, 1, L]
        var allowed = keyIndex <= queries;
        if (windowBinds) allowed = allowed.logical_and(queries - keyIndex < slidingWindow!.Value);
        return new AttentionContext(positions, allowed, IsCausal: false, 0);
    }

    /// <summary>
    /// Begins a pass of one new position per row for a decode step that reads and writes the cache itself (as
    /// <see cref="OneNewPositionPerRow"/> then describes it): <see cref="Begin"/> without its torch tensors.
    /// </summary>
    internal OneNewPosition BeginOneEach(long batch, int? slidingWindow)
    {
        var pasts = Advance(batch, 1);
        pass?.Positions?.Dispose();
        pass = new Pass(pasts, pasts.All(p => p == pasts[0]), 1, pasts.Max() + 1, null, slidingWindow);
        return new OneNewPosition(first, pasts, slidingWindow);
    }

    /// <summary>Each selected row's length before the pass, after checking the pass fits; the used slots grow by it.</summary>
    long[] Advance(long batch, long length)
    {
        if (batch != count) throw new ArgumentException($"the pass has {batch} rows, the selected slots {count}");
        var pasts = new long[count];
        for (int r = 0; r < count; r++)
        {
            pasts[r] = used[first + r] ? lengths[first + r] : 0;
            if (pasts[r] + length > Positions)
                throw new ArgumentException($"slot {first + r} holds {pasts[r]} positions; {length} more exceed its {Positions}");
        }
        for (int r = 0; r < count; r++)
            if (used[first + r]) lengths[first + r] += length;
        return pasts;
    }

    /// <summary>
    /// The pass's rows for a decode step that reads and writes the cache itself, when each row adds one position
    /// (null otherwise): row r is slot <c>First + r</c>, writes its new position at <c>Pasts[r]</c> and attends to
    /// positions up to it, the last <c>Window</c> of them when a sliding window is set, as <see cref="Begin"/>'s mask says.
    /// </summary>
    internal OneNewPosition? OneNewPositionPerRow => pass is { Length: 1 } p ? new OneNewPosition(first, p.Pasts, p.Window) : null;

    /// <summary>A layer's whole cache, [slots, KV heads, positions, head dim].</summary>
    internal (Tensor Keys, Tensor Values) Layer(int layer) => (keys[layer], values[layer]);

    internal sealed record OneNewPosition(int First, long[] Pasts, int? Window);

    internal override (Tensor Keys, Tensor Values) Append(int layer, Tensor newKeys, Tensor newValues)
    {
        var p = pass ?? throw new InvalidOperationException("Append before Begin");
        var k = keys[layer].narrow(0, first, count);
        var v = values[layer].narrow(0, first, count);
        if (p.SamePast)
        {
            k.narrow(2, p.Pasts[0], p.Length).copy_(newKeys);
            v.narrow(2, p.Pasts[0], p.Length).copy_(newValues);
        }
        else
        {
            var positions = p.Positions ?? throw new InvalidOperationException("Append after BeginOneEach: that pass's step writes the cache itself");
            using var index = positions.view(count, 1, p.Length, 1).expand(newKeys.size());
            k.scatter_(2, index, newKeys);
            v.scatter_(2, index, newValues);
        }
        return (k.narrow(2, 0, p.Attend), v.narrow(2, 0, p.Attend));
    }

    public override void Dispose()
    {
        foreach (var t in keys.Concat(values)) t.Dispose();
        pass?.Positions?.Dispose();
    }

    /// <summary>A pass's rows; Positions is null for <see cref="BeginOneEach"/>'s, which no torch op reads.</summary>
    sealed record Pass(long[] Pasts, bool SamePast, long Length, long Attend, Tensor? Positions, int? Window);
}
