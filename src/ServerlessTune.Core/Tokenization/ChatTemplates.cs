namespace ServerlessTune.Core.Tokenization;

/// <summary>Picks a model's chat format: an explicit name, else its chat_template's markers, else its special tokens.</summary>
public static class ChatTemplates
{
    public static readonly IReadOnlyList<string> Names = ["chatml", "llama2", "llama3", "phi3", "zephyr", "plain"];

    /// <summary>The format for a model folder; <paramref name="overrideName"/> wins over what the folder says.</summary>
    public static IChatTemplate For(string modelDir, string? overrideName) =>
        For(TokenizerLoader.Load(modelDir), Directory.Exists(modelDir) ? TokenizerConfig.Load(modelDir) : TokenizerConfig.Empty, overrideName);

    public static IChatTemplate For(ITextTokenizer tokenizer, TokenizerConfig config, string? overrideName)
    {
        var tokens = new ChatTemplateTokens(
            config.BosToken ?? TokenText(tokenizer, tokenizer.BosTokenId),
            config.EosToken ?? TokenText(tokenizer, tokenizer.EosTokenId));
        return Create(overrideName ?? Detect(tokenizer, config), tokenizer, tokens);
    }

    public static IChatTemplate ByName(string name, ITextTokenizer tokenizer) =>
        For(tokenizer, TokenizerConfig.Empty, name);

    private static string Detect(ITextTokenizer tokenizer, TokenizerConfig config)
    {
        if (config.ChatTemplate is { } jinja)
        {
            return FromMarkers(jinja.Contains, hasEos: jinja.Contains("eos_token"))
                ?? throw new UserInputException(
                    $"{config.SourcePath ?? TokenizerFiles.TokenizerConfigJson}: chat_template is none of the known formats " +
                    $"({string.Join(", ", Names)}); name one explicitly");
        }
        return FromMarkers(token => tokenizer.TryGetSpecialTokenId(token, out _), hasEos: false) ?? "plain";
    }

    private static string? FromMarkers(Func<string, bool> has, bool hasEos) =>
        has("<|im_start|>") ? "chatml"
        : has("<|start_header_id|>") ? "llama3"
        : has("[INST]") ? "llama2"
        : has("<|user|>") && has("<|end|>") ? "phi3"
        : has("<|user|>") && hasEos ? "zephyr"
        : null;

    private static IChatTemplate Create(string name, ITextTokenizer tokenizer, ChatTemplateTokens tokens) =>
        name.ToLowerInvariant() switch
        {
            "chatml" => new ChatMlTemplate(tokenizer, tokens),
            "llama2" => new Llama2Template(tokenizer, tokens),
            "llama3" => new Llama3Template(tokenizer, tokens),
            "phi3" => new Phi3Template(tokenizer, tokens),
            "zephyr" => new ZephyrTemplate(tokenizer, tokens),
            "plain" => new PlainTemplate(tokenizer, tokens),
            _ => throw new UserInputException($"chat template '{name}' is unknown ({string.Join(", ", Names)})"),
        };

    private static string TokenText(ITextTokenizer tokenizer, int? id) => id switch
    {
        null => "",
        { } value when tokenizer is TextTokenizer own => own.SpecialTokenText(value) ?? own.Decode([value]),
        { } value => tokenizer.Decode([value]),
    };
}
