namespace ServerlessTune.Core.Tokenization;

/// <summary>What a model written next to the tokenizer needs: vocab_size and the special token ids.</summary>
public sealed record TokenizerFileSet(int VocabSize, int? BosTokenId, int EosTokenId, int? PadTokenId);
