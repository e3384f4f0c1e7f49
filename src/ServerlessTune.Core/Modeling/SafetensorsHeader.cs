using System.Buffers.Binary;
using System.Text.Json;

namespace ServerlessTune.Core.Modeling;

/// <param name="Begin">Byte offset of the tensor's data from the start of the data section.</param>
public sealed record SafetensorsTensor(string DType, IReadOnlyList<long> Shape, long Begin, long End);

/// <summary>
/// The header of a safetensors file (an 8-byte little-endian length, a JSON object of tensor name to
/// {dtype, shape, data_offsets}, an optional __metadata__ of strings), held to the format's rules before any tensor
/// is read: a hostile or truncated file is a one-line error here instead of a huge allocation or a crash inside the
/// tensor reader. Reads only the header, so it also verifies a multi-gigabyte file in a store cheaply.
/// </summary>
public sealed record SafetensorsHeader(IReadOnlyDictionary<string, SafetensorsTensor> Tensors)
{
    /// <summary>The format's own reference reader refuses headers above 100 MB.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    static readonly Dictionary<string, int> DTypeBytes = new(StringComparer.Ordinal)
    {
        ["BOOL"] = 1, ["U8"] = 1, ["I8"] = 1, ["F8_E4M3"] = 1, ["F8_E5M2"] = 1,
        ["U16"] = 2, ["I16"] = 2, ["F16"] = 2, ["BF16"] = 2,
        ["U32"] = 4, ["I32"] = 4, ["F32"] = 4,
        ["U64"] = 8, ["I64"] = 8, ["F64"] = 8,
    };

    public static SafetensorsHeader ReadFile(string path)
    {
        using var stream = File.OpenRead(path);
        return Read(stream, stream.Length, path);
    }

    /// <param name="fileLength">The whole file's size, which the header's offsets must fit.</param>
    public static SafetensorsHeader Read(Stream stream, long fileLength, string source)
    {
        Span<byte> prefix = stackalloc byte[8];
        if (fileLength < 8 || ReadFully(stream, prefix) < 8)
            throw Bad(source, "shorter than the 8-byte header length");
        ulong length = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (length < 2 || length > MaxHeaderBytes || (long)length > fileLength - 8)
            throw Bad(source, $"header length {length} does not fit a {fileLength}-byte file (at most {MaxHeaderBytes})");
        var header = new byte[length];
        if (ReadFully(stream, header) < header.Length) throw Bad(source, "the file ends inside its header");
        long dataBytes = fileLength - 8 - (long)length;

        JsonDocument document;
        try { document = JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 8 }); }
        catch (JsonException e) { throw Bad(source, $"header is not valid JSON ({e.Message.Split(". ")[0]})"); }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object) throw Bad(source, "header is not a JSON object");
            var tensors = new Dictionary<string, SafetensorsTensor>(StringComparer.Ordinal);
            foreach (var entry in document.RootElement.EnumerateObject())
            {
                if (entry.Name == "__metadata__") { CheckMetadata(entry.Value, source); continue; }
                if (!tensors.TryAdd(entry.Name, Tensor(entry.Name, entry.Value, dataBytes, source)))
                    throw Bad(source, $"tensor '{entry.Name}' is listed twice");
            }
            return new SafetensorsHeader(tensors);
        }
    }

    static SafetensorsTensor Tensor(string name, JsonElement value, long dataBytes, string source)
    {
        string where = $"tensor '{name}'";
        if (value.ValueKind != JsonValueKind.Object) throw Bad(source, $"{where}: expected an object");
        if (!value.TryGetProperty("dtype", out var dtype) || dtype.ValueKind != JsonValueKind.String || !DTypeBytes.TryGetValue(dtype.GetString()!, out int size))
            throw Bad(source, $"{where}: dtype: missing or not one of {string.Join(", ", DTypeBytes.Keys)}");
        var shape = Longs(value, "shape", where, source);
        var offsets = Longs(value, "data_offsets", where, source);
        if (offsets.Count != 2 || offsets[0] > offsets[1]) throw Bad(source, $"{where}: data_offsets: expected [begin, end] with begin <= end");
        if (offsets[1] > dataBytes) throw Bad(source, $"{where}: data_offsets end {offsets[1]} is past the {dataBytes} bytes of data");
        long bytes = size;
        foreach (long dim in shape)
            if (dim != 0 && bytes > long.MaxValue / dim) throw Bad(source, $"{where}: shape [{string.Join(", ", shape)}] overflows");
            else bytes *= dim;
        if (bytes != offsets[1] - offsets[0])
            throw Bad(source, $"{where}: shape [{string.Join(", ", shape)}] of {dtype.GetString()} needs {bytes} bytes, data_offsets give {offsets[1] - offsets[0]}");
        return new SafetensorsTensor(dtype.GetString()!, shape, offsets[0], offsets[1]);
    }

    static List<long> Longs(JsonElement value, string key, string where, string source)
    {
        if (!value.TryGetProperty(key, out var array) || array.ValueKind != JsonValueKind.Array)
            throw Bad(source, $"{where}: {key}: missing or not an array");
        var numbers = new List<long>();
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out long n) || n < 0)
                throw Bad(source, $"{where}: {key}: expected non-negative whole numbers");
            numbers.Add(n);
        }
        return numbers;
    }

    static void CheckMetadata(JsonElement value, string source)
    {
        if (value.ValueKind != JsonValueKind.Object || value.EnumerateObject().Any(p => p.Value.ValueKind != JsonValueKind.String))
            throw Bad(source, "__metadata__: expected an object of strings");
    }

    static int ReadFully(Stream stream, Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length && stream.Read(buffer[total..]) is var read and > 0) total += read;
        return total;
    }

    static UserInputException Bad(string source, string reason) => new($"{source}: not a readable safetensors file: {reason}");
}
