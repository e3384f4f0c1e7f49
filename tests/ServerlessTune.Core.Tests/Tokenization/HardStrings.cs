namespace ServerlessTune.Core.Tests.Tokenization;

/// <summary>Text that trips tokenizers: whitespace runs, numbers, emoji, scripts, contractions, marker look-alikes.</summary>
public static class HardStrings
{
    public static readonly string[] All =
    [
        "",
        "x",
        "hello world",
        "   leading space",
        "trailing space   ",
        "Hi  Hello",
        "\n\n\nthree newlines\n\n",
        "today\n \n",
        "today\n  \n",
        "tabs\tand\r\nCRLF\r\n",
        "    indented();\n        deeper = 1\n",
        "0123456789 0 1 2 3 4 5 6 7 8 9 10 100 1000 3.14159 -42 1e10 2016.",
        "0000000000000000",
        "😀🎉👍🏽 emoji 👨‍👩‍👧 🦙Ꙋ",
        "生活的真谛是 日本語のテキスト",
        "Привет, мир! Ελληνικά مرحبا بالعالم नमस्ते दुनिया",
        "I'm we'll they've she'd it's DON'T i'M i'Ve",
        "A\n'll !!to?'d''d of, can't.",
        "test $1 R2 #3 €4 £5 ¥6 ₣7 ₹8 ₱9 test",
        "you…\u00A0\u00A0you…  ",
        "weird \uFF5E edge \uFF5E case",
        "▁This ▁is ▁a ▁test ▁.",
        "e\u0301 combining, ﬁ ligature, \u200Bzero width",
        "1\u00002\uFFFD3",
        "<|endoftext|> <|im_start|>user\nhi<|im_end|> </s> <s> <|eot_id|> <|start_header_id|> [INST] <<SYS>>",
        "let a = obj.toString();\ntoString();",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    ];

    /// <summary>Strings that are special tokens in some tokenizer; user text must never turn into them.</summary>
    public static readonly string[] SpecialLookAlikes =
    [
        "<|im_end|>", "<|im_start|>", "</s>", "<s>", "<|endoftext|>", "<|eot_id|>", "<|end|>", "<|user|>",
        "<|start_header_id|>", "<|end_header_id|>", "<unk>", "<|fim_prefix|>", "<|endofprompt|>",
    ];
}
