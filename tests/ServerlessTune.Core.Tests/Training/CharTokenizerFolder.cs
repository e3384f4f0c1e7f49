using System.Text;
using System.Text.Json;
using ServerlessTune.Core.Tokenization;

namespace ServerlessTune.Core.Tests.Training;

/// <summary>
/// A byte-level BPE tokenizer with no merges (one token per byte) plus ChatML markers: 259 ids, so a tiny
/// model's output layer is small and training tests spend their time in the transformer, not in a 50k softmax.
/// </summary>
public static class CharTokenizerFolder
{
    public const int VocabSize = 259;
    public const int EndOfText = 256, ImStart = 257, ImEnd = 258;

    public static void Write(string directory)
    {
        Directory.CreateDirectory(directory);
        var vocab = new Dictionary<string, int>();
        for (int b = 0; b < 256; b++) vocab[ByteLevelAlphabet.Encode([(byte)b])] = b;
        vocab["<|endoftext|>"] = EndOfText;
        File.WriteAllText(Path.Combine(directory, "vocab.json"), JsonSerializer.Serialize(vocab));
        File.WriteAllText(Path.Combine(directory, "merges.txt"), "#version: 0.2\n", Encoding.UTF8);
        File.WriteAllText(Path.Combine(directory, TokenizerFiles.TokenizerConfigJson), JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["eos_token"] = "<|im_end|>",
            ["pad_token"] = "<|endoftext|>",
            ["chat_template"] = ChatMlTemplate.Jinja,
            ["added_tokens_decoder"] = new Dictionary<string, object>
            {
                [EndOfText.ToString()] = new { content = "<|endoftext|>", special = true },
                [ImStart.ToString()] = new { content = "<|im_start|>", special = true },
                [ImEnd.ToString()] = new { content = "<|im_end|>", special = true },
            },
        }));
    }
}
