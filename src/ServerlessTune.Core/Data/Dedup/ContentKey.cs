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
    public static UInt128 Compute(Conversation conversation)
    {
        var builder = new StringBuilder();
        builder.Append(conversation.Kind == RecordKind.Passage ? 'P' : 'C');
        foreach (var message in conversation.Messages)
            builder.Append('\u001e').Append(message.Role).Append('\u001f').Append(message.Weight?.ToString() ?? "").Append('\u001f').Append(message.Content);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(builder.ToString()), hash);
        return BinaryPrimitives.ReadUInt128LittleEndian(hash);
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
