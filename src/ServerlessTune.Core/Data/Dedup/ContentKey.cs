using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace ServerlessTune.Core.Data.Dedup;

/// <summary>
/// The identity of a record's content after normalisation and redaction: roles, texts and the record
/// kind. Equal keys are exact duplicates; the key also seeds the train/validation split, so a record's
/// split depends only on its own content and the seed, never on what else is in the dataset.
/// </summary>
public static class ContentKey
{
    const int MaxWeightChars = 11; // int.MinValue as text

    public static UInt128 Compute(Conversation conversation)
    {
        // The UTF-8 of "C|P" then "\u001e role \u001f weight \u001f content" per message, encoded piece by piece
        // into one pooled buffer: no piece boundary can split a surrogate pair (each is a whole string
        // between ASCII separators), so the bytes equal those of the concatenated text.
        int chars = 1;
        foreach (var message in conversation.Messages) chars += 3 + message.Role.Length + MaxWeightChars + message.Content.Length;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(chars));
        try
        {
            int length = 0;
            void Add(string text) => length += Encoding.UTF8.GetBytes(text, buffer.AsSpan(length));
            Add(conversation.Kind == RecordKind.Passage ? "P" : "C");
            foreach (var message in conversation.Messages)
            {
                Add("\u001e"); Add(message.Role); Add("\u001f"); Add(message.Weight?.ToString() ?? ""); Add("\u001f"); Add(message.Content);
            }
            Span<byte> hash = stackalloc byte[32];
            SHA256.HashData(buffer.AsSpan(0, length), hash);
            return BinaryPrimitives.ReadUInt128LittleEndian(hash);
        }
        finally { ArrayPool<byte>.Shared.Return(buffer); }
    }

    /// <summary>True if the record goes to validation: a seeded hash of the key, read as a fraction in [0, 1).</summary>
    public static bool IsValidation(UInt128 key, int seed, double validationFraction)
    {
        Span<byte> input = stackalloc byte[20];
        BinaryPrimitives.WriteUInt128LittleEndian(input, key);
        BinaryPrimitives.WriteInt32LittleEndian(input[16..], seed);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(input, hash);
        ulong draw = BinaryPrimitives.ReadUInt64LittleEndian(hash);
        return (draw >> 11) * (1.0 / (1UL << 53)) < validationFraction;
    }
}
