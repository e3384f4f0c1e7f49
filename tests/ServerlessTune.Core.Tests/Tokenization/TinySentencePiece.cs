using Google.Protobuf;

namespace ServerlessTune.Core.Tests.Tokenization;

/// <summary>
/// Writes a small but real SentencePiece BPE model (the protobuf layout of Llama 2's tokenizer.model:
/// &lt;unk&gt;, &lt;s&gt;, &lt;/s&gt;, 256 byte-fallback pieces, then scored pieces), since no model can be downloaded here.
/// Field numbers are those of sentencepiece_model.proto.
/// </summary>
public static class TinySentencePiece
{
    // Higher score merges first, as in SentencePiece BPE models.
    public static readonly string[] Pieces =
    [
        "▁", "h", "e", "l", "o", "w", "r", "d", "a", "n", "s", "t", "i", "[", "]", "I", "N", "S", "T", "/", "<", ">", "|", "ld",
        "▁h", "he", "ll", "llo", "▁he", "▁hello", "▁w", "or", "▁wor", "▁world", "IN", "ST", "INST", "[INST", "[INST]", "▁[INST]", "[/", "[/INST", "[/INST]", "▁[/INST]",
        "an", "▁an", "▁answer", "sw", "er", "swer",
    ];

    public const int FirstPieceId = 3 + 256;

    public static int IdOf(string piece) => FirstPieceId + Array.IndexOf(Pieces, piece);

    public static void Write(string path)
    {
        using var file = File.Create(path);
        var output = new CodedOutputStream(file);
        WritePiece(output, "<unk>", 0, type: 2);
        WritePiece(output, "<s>", 0, type: 3);
        WritePiece(output, "</s>", 0, type: 3);
        for (var b = 0; b < 256; b++)
            WritePiece(output, $"<0x{b:X2}>", 0, type: 6);
        for (var i = 0; i < Pieces.Length; i++)
            WritePiece(output, Pieces[i], -i, type: 1);
        WriteMessage(output, 2, trainer =>
        {
            trainer.WriteTag(3, WireFormat.WireType.Varint); trainer.WriteEnum(2); // model_type = BPE
            trainer.WriteTag(4, WireFormat.WireType.Varint); trainer.WriteInt32(FirstPieceId + Pieces.Length);
            trainer.WriteTag(35, WireFormat.WireType.Varint); trainer.WriteBool(true); // byte_fallback
            trainer.WriteTag(40, WireFormat.WireType.Varint); trainer.WriteInt32(0);
            trainer.WriteTag(41, WireFormat.WireType.Varint); trainer.WriteInt32(1);
            trainer.WriteTag(42, WireFormat.WireType.Varint); trainer.WriteInt32(2);
            trainer.WriteTag(43, WireFormat.WireType.Varint); trainer.WriteInt32(-1);
            trainer.WriteTag(45, WireFormat.WireType.LengthDelimited); trainer.WriteString("<unk>");
            trainer.WriteTag(46, WireFormat.WireType.LengthDelimited); trainer.WriteString("<s>");
            trainer.WriteTag(47, WireFormat.WireType.LengthDelimited); trainer.WriteString("</s>");
        });
        WriteMessage(output, 3, normalizer =>
        {
            normalizer.WriteTag(1, WireFormat.WireType.LengthDelimited); normalizer.WriteString("identity");
            normalizer.WriteTag(3, WireFormat.WireType.Varint); normalizer.WriteBool(true); // add_dummy_prefix
            normalizer.WriteTag(4, WireFormat.WireType.Varint); normalizer.WriteBool(false); // remove_extra_whitespaces
            normalizer.WriteTag(5, WireFormat.WireType.Varint); normalizer.WriteBool(true); // escape_whitespaces
        });
        output.Flush();
    }

    private static void WritePiece(CodedOutputStream output, string piece, float score, int type) =>
        WriteMessage(output, 1, message =>
        {
            message.WriteTag(1, WireFormat.WireType.LengthDelimited); message.WriteString(piece);
            message.WriteTag(2, WireFormat.WireType.Fixed32); message.WriteFloat(score);
            message.WriteTag(3, WireFormat.WireType.Varint); message.WriteEnum(type);
        });

    private static void WriteMessage(CodedOutputStream output, int field, Action<CodedOutputStream> write)
    {
        using var buffer = new MemoryStream();
        var inner = new CodedOutputStream(buffer);
        write(inner);
        inner.Flush();
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFrom(buffer.ToArray()));
    }
}
