using ServerlessTune.Core.Tokenization;

namespace ServerlessTune.Core.Tests.Tokenization;

/// <summary>One tokenizer of every kind the loader builds: built-in tiktoken encodings, tokenizer.json, vocab+merges, SentencePiece.</summary>
internal static class TokenizerKinds
{
    public static TheoryData<string> All => ["gpt2", "cl100k", "o200k", "written-gpt2", "vocab-merges", "llama3-style", "sentencepiece"];

    public static ITextTokenizer Load(string kind, TempDir dir)
    {
        switch (kind)
        {
            case "written-gpt2":
                TokenizerFiles.Write("gpt2", dir.Path);
                return TokenizerLoader.Load(dir.Path);
            case "vocab-merges":
                return TokenizerLoader.Load(TinyByteLevel.WriteVocabAndMerges(dir));
            case "llama3-style":
                return TokenizerLoader.Load(TinyByteLevel.Write(dir, TinyByteLevel.Llama3PreTokenizer, ignoreMerges: true));
            case "sentencepiece":
                TinySentencePiece.Write(Path.Combine(dir.Path, "tokenizer.model"));
                return TokenizerLoader.Load(dir.Path);
            default:
                return TokenizerLoader.Load(kind);
        }
    }
}
