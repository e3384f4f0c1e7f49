namespace ServerlessTune.Core.Data.Dedup;

/// <summary>
/// A hash index from keys to record ids that stores only the ids (4 bytes a slot) and asks for a record's
/// key when it needs one: the deduplicator already keeps every key in flat arrays, where a Dictionary
/// would hold it a second time with 12 bytes of bookkeeping per entry. Open addressing with linear probing
/// and Fibonacci hashing; no removal. A key keeps the first id added for it.
/// </summary>
internal sealed class IdIndex<TKey>(Func<int, TKey> keyOf) where TKey : IEquatable<TKey>
{
    int[] _slots = new int[1024]; // id + 1; 0 is empty
    int _count;

    public long AllocatedBytes => (long)_slots.Length * sizeof(int);

    public bool TryGet(TKey key, out int id)
    {
        id = _slots[Find(key)] - 1;
        return id >= 0;
    }

    /// <summary>Adds <paramref name="id"/> under its key (keyOf(id)) unless the key has an id already.</summary>
    public void TryAdd(int id)
    {
        // Keep the load under 3/4: longer probe runs cost a key lookup each.
        if ((_count + 1) * 4L > _slots.Length * 3L) Grow();
        int slot = Find(keyOf(id));
        if (_slots[slot] != 0) return;
        _slots[slot] = id + 1;
        _count++;
    }

    /// <summary>The slot holding the key's id, or the free slot where it would go.</summary>
    int Find(TKey key)
    {
        int slot = Home(key, _slots.Length);
        while (_slots[slot] != 0 && !keyOf(_slots[slot] - 1).Equals(key)) slot = (slot + 1) & (_slots.Length - 1);
        return slot;
    }

    /// <summary>Doubles the table; its keys are distinct already, so each id just takes the first free slot from its home.</summary>
    void Grow()
    {
        var larger = new int[_slots.Length * 2];
        foreach (int entry in _slots)
        {
            if (entry == 0) continue;
            int slot = Home(keyOf(entry - 1), larger.Length);
            while (larger[slot] != 0) slot = (slot + 1) & (larger.Length - 1);
            larger[slot] = entry;
        }
        _slots = larger;
    }

    static int Home(TKey key, int length) =>
        (int)(((ulong)(uint)key.GetHashCode() * 0x9E3779B97F4A7C15UL) >> (64 - System.Numerics.BitOperations.Log2((uint)length)));
}
