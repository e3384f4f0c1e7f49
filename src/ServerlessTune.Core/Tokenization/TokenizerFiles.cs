using System.Text.Encodings.Web;
using System.Text.Json;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Core.Tokenization;

/// <summary>
/// Writes a built-in tiktoken encoding as the files Transformers' PreTrainedTokenizerFast loads:
/// tokenizer.json (byte-level BPE), tokenizer_config.json (ChatML chat_template, special tokens) and
/// special_tokens_map.json. Same spec, byte-identical files.
/// </summary>
public static class TokenizerFiles
{
    public const string TokenizerJson = "tokenizer.json";
    public const string TokenizerConfigJson = "tokenizer_config.json";
    public const string SpecialTokensMapJson = "special_tokens_map.json";

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Indented = true,
        // Vocabulary entries stay readable ("Ġthe", not "\u0120the"), as Transformers writes them.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <param name="spec">gpt2, cl100k or o200k.</param>
    /// <param name="modelMaxLength">model_max_length; defaults to the encoding's original model context.</param>
    public static TokenizerFileSet Write(string spec, string directory, int? modelMaxLength = null)
    {
        if (!BuiltInEncoding.TryGet(spec, out var encoding))
            throw new UserInputException(
                $"tokenizer '{spec}': only built-in encodings can be written ({string.Join(", ", BuiltInEncoding.Names)})");
        Directory.CreateDirectory(directory);
        var eos = encoding.SpecialTokens[BuiltInEncoding.EndOfText];
        WriteAtomically(Path.Combine(directory, TokenizerJson), writer => WriteTokenizerJson(writer, encoding));
        WriteAtomically(Path.Combine(directory, TokenizerConfigJson),
            writer => WriteTokenizerConfig(writer, encoding, modelMaxLength ?? encoding.ContextLength));
        WriteAtomically(Path.Combine(directory, SpecialTokensMapJson), WriteSpecialTokensMap);
        return new TokenizerFileSet(encoding.VocabSize, BosTokenId: null, EosTokenId: eos, PadTokenId: eos);
    }

    private static void WriteTokenizerJson(Utf8JsonWriter w, BuiltInEncoding encoding)
    {
        var vocab = encoding.Ranks.Select(bytes => ByteLevelAlphabet.Encode(bytes)).ToArray();
        w.WriteStartObject();
        w.WriteString("version", "1.0");
        w.WriteNull("truncation");
        w.WriteNull("padding");
        w.WriteStartArray("added_tokens");
        foreach (var (token, id) in encoding.SpecialTokens.OrderBy(pair => pair.Value))
        {
            w.WriteStartObject();
            w.WriteNumber("id", id);
            w.WriteString("content", token);
            w.WriteBoolean("single_word", false);
            w.WriteBoolean("lstrip", false);
            w.WriteBoolean("rstrip", false);
            w.WriteBoolean("normalized", false);
            w.WriteBoolean("special", true);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteNull("normalizer");
        WritePreTokenizer(w, encoding);
        WriteByteLevel(w, "post_processor", addPrefixSpace: true, trimOffsets: false, useRegex: true);
        WriteByteLevel(w, "decoder", addPrefixSpace: true, trimOffsets: true, useRegex: true);
        w.WriteStartObject("model");
        w.WriteString("type", "BPE");
        w.WriteNull("dropout");
        w.WriteNull("unk_token");
        w.WriteNull("continuing_subword_prefix");
        w.WriteNull("end_of_word_suffix");
        w.WriteBoolean("fuse_unk", false);
        w.WriteBoolean("byte_fallback", false);
        // tiktoken takes a whole pre-token that is in the vocabulary as is; ignore_merges does the same.
        w.WriteBoolean("ignore_merges", true);
        w.WriteStartObject("vocab");
        for (var id = 0; id < vocab.Length; id++)
            w.WriteNumber(vocab[id], id);
        w.WriteEndObject();
        w.WriteStartArray("merges");
        foreach (var merge in TiktokenMerges.Recover(encoding.Ranks))
            w.WriteStringValue($"{ByteLevelAlphabet.Encode(merge.Left)} {ByteLevelAlphabet.Encode(merge.Right)}");
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndObject();
    }

    // GPT-2 splits inside its ByteLevel pre-tokenizer; the later encodings split first with their own
    // pattern and map bytes afterwards, as Llama 3's tokenizer.json does.
    private static void WritePreTokenizer(Utf8JsonWriter w, BuiltInEncoding encoding)
    {
        if (encoding.Pattern == BuiltInEncoding.Gpt2Pattern)
        {
            WriteByteLevel(w, "pre_tokenizer", addPrefixSpace: false, trimOffsets: true, useRegex: true);
            return;
        }
        w.WriteStartObject("pre_tokenizer");
        w.WriteString("type", "Sequence");
        w.WriteStartArray("pretokenizers");
        w.WriteStartObject();
        w.WriteString("type", "Split");
        w.WriteStartObject("pattern");
        w.WriteString("Regex", encoding.Pattern);
        w.WriteEndObject();
        w.WriteString("behavior", "Isolated");
        w.WriteBoolean("invert", false);
        w.WriteEndObject();
        WriteByteLevel(w, null, addPrefixSpace: false, trimOffsets: true, useRegex: false);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteByteLevel(Utf8JsonWriter w, string? property, bool addPrefixSpace, bool trimOffsets, bool useRegex)
    {
        if (property is null)
            w.WriteStartObject();
        else
            w.WriteStartObject(property);
        w.WriteString("type", "ByteLevel");
        w.WriteBoolean("add_prefix_space", addPrefixSpace);
        w.WriteBoolean("trim_offsets", trimOffsets);
        w.WriteBoolean("use_regex", useRegex);
        w.WriteEndObject();
    }

    private static void WriteTokenizerConfig(Utf8JsonWriter w, BuiltInEncoding encoding, int modelMaxLength)
    {
        w.WriteStartObject();
        w.WriteBoolean("add_bos_token", false);
        w.WriteBoolean("add_prefix_space", false);
        w.WriteStartObject("added_tokens_decoder");
        foreach (var (token, id) in encoding.SpecialTokens.OrderBy(pair => pair.Value))
        {
            w.WriteStartObject(id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            w.WriteString("content", token);
            w.WriteBoolean("lstrip", false);
            w.WriteBoolean("normalized", false);
            w.WriteBoolean("rstrip", false);
            w.WriteBoolean("single_word", false);
            w.WriteBoolean("special", true);
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.WriteStartArray("additional_special_tokens");
        w.WriteStringValue(BuiltInEncoding.ImStart);
        w.WriteStringValue(BuiltInEncoding.ImEnd);
        w.WriteEndArray();
        w.WriteNull("bos_token");
        w.WriteString("chat_template", ChatMlTemplate.Jinja);
        w.WriteBoolean("clean_up_tokenization_spaces", false);
        w.WriteString("eos_token", BuiltInEncoding.EndOfText);
        w.WriteNumber("model_max_length", modelMaxLength);
        w.WriteString("pad_token", BuiltInEncoding.EndOfText);
        w.WriteString("tokenizer_class", "PreTrainedTokenizerFast");
        w.WriteNull("unk_token");
        w.WriteEndObject();
    }

    private static void WriteSpecialTokensMap(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteStartArray("additional_special_tokens");
        w.WriteStringValue(BuiltInEncoding.ImStart);
        w.WriteStringValue(BuiltInEncoding.ImEnd);
        w.WriteEndArray();
        w.WriteString("eos_token", BuiltInEncoding.EndOfText);
        w.WriteString("pad_token", BuiltInEncoding.EndOfText);
        w.WriteEndObject();
    }

    // A crash mid-write must not leave a truncated tokenizer.json that a later step trusts.
    private static void WriteAtomically(string path, Action<Utf8JsonWriter> write) =>
        AtomicFile.Write(path, stream =>
        {
            using (var writer = new Utf8JsonWriter(stream, WriterOptions))
            {
                write(writer);
                writer.Flush();
            }
            stream.WriteByte((byte)'\n');
        });
}
