using System.Text;
using System.Text.Json.Nodes;
using static TorchSharp.torch;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Core.Modeling;

/// <summary>
/// Writes a .safetensors file as the safetensors library does: 8-byte little-endian header length, a JSON
/// header with {"__metadata__": {"format": "pt"}} (Transformers checks it) padded with spaces to 8 bytes,
/// then the raw tensor bytes in header order. TorchSharp.PyBridge reads these files; its writer emits no
/// metadata, which is why this one exists.
/// </summary>
internal static class SafetensorsWriter
{
    public static void Write(string path, IReadOnlyList<(string Name, Tensor Tensor)> tensors)
    {
        var header = new JsonObject { ["__metadata__"] = new JsonObject { ["format"] = "pt" } };
        long offset = 0;
        foreach (var (name, tensor) in tensors)
        {
            var length = tensor.numel() * tensor.ElementSize;
            header[name] = new JsonObject
            {
                ["dtype"] = DTypeName(tensor.dtype, name),
                ["shape"] = new JsonArray(tensor.shape.Select(d => (JsonNode)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + length),
            };
            offset += length;
        }
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        var padded = (json.Length + 7) / 8 * 8;

        AtomicFile.Write(path, stream =>
        {
            stream.Write(BitConverter.GetBytes((ulong)padded));
            stream.Write(json);
            stream.Write(Enumerable.Repeat((byte)' ', padded - json.Length).ToArray());
            foreach (var (_, tensor) in tensors)
            {
                using var contiguous = tensor.detach().cpu().contiguous();
                stream.Write(contiguous.bytes);
            }
        });
    }

    public static string DTypeName(ScalarType dtype, string name) => dtype switch
    {
        ScalarType.Float32 => "F32",
        ScalarType.Float16 => "F16",
        ScalarType.BFloat16 => "BF16",
        ScalarType.Float64 => "F64",
        ScalarType.Int64 => "I64",
        ScalarType.Int32 => "I32",
        ScalarType.Bool => "BOOL",
        _ => throw new ArgumentException($"tensor {name}: dtype {dtype} cannot be written to safetensors"),
    };
}
