using System.Text.Json;
using System.Text.Json.Nodes;

namespace ServerlessTune.Core.Modeling;

/// <summary>RoPE frequency scaling from config.json's rope_scaling ("llama3" or "linear").</summary>
public sealed record RopeScaling(string Type, double Factor, double LowFreqFactor, double HighFreqFactor, int OriginalMaxPositions);

/// <summary>
/// A Hugging Face config.json, read with the defaults of the matching Transformers config class.
/// Keys that only change sizes are required (a config without hidden_size is a broken file, not a default);
/// everything else falls back to the Transformers default. The raw JSON is kept so saving round-trips
/// keys this class does not model.
/// </summary>
public sealed class ModelConfig
{
    public static readonly string[] ModelTypes = ["gpt2", "gptj", "llama", "mistral", "qwen2", "phi3"];

    public required string Source { get; init; }
    public required JsonObject Raw { get; init; }
    public required string ModelType { get; init; }
    public required string Architecture { get; init; }
    public required int VocabSize { get; init; }
    public required int HiddenSize { get; init; }
    public required int NumLayers { get; init; }
    public required int NumHeads { get; init; }
    public required int NumKvHeads { get; init; }
    public required int HeadDim { get; init; }
    public required int IntermediateSize { get; init; }
    public required int MaxPositions { get; init; }
    public required double NormEps { get; init; }
    public required string HiddenAct { get; init; }
    public required bool TieWordEmbeddings { get; init; }
    /// <summary>Bias on q/k/v projections (qwen2 always; llama when attention_bias).</summary>
    public required bool QkvBias { get; init; }
    /// <summary>Bias on the attention output projection (llama attention_bias).</summary>
    public required bool OutputBias { get; init; }
    public required bool MlpBias { get; init; }
    public required double RopeTheta { get; init; }
    public required int RotaryDim { get; init; }
    public required RopeScaling? RopeScaling { get; init; }
    public required int? SlidingWindow { get; init; }
    public required double InitializerRange { get; init; }
    /// <summary>Dropout after the embeddings, on attention probabilities, and on each block's attention and MLP output (training only).</summary>
    public required double EmbeddingDropout { get; init; }
    public required double AttentionDropout { get; init; }
    public required double ResidualDropout { get; init; }
    public required int? BosTokenId { get; init; }
    public required int[] EosTokenIds { get; init; }
    public required int? PadTokenId { get; init; }

    public int? EosTokenId => EosTokenIds.Length > 0 ? EosTokenIds[0] : null;

    /// <summary>Reads config.json from a model folder, or the given config.json file.</summary>
    public static ModelConfig Load(string dirOrConfigJson)
    {
        var file = Directory.Exists(dirOrConfigJson) ? Path.Combine(dirOrConfigJson, "config.json") : dirOrConfigJson;
        if (!File.Exists(file))
            throw new UserInputException($"{file}: file not found (expected a model folder or its config.json)");
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(File.ReadAllText(file));
        }
        catch (JsonException ex)
        {
            throw new UserInputException($"{file}: line {ex.LineNumber + 1}: not valid JSON: {ex.Message}", ex);
        }
        if (node is not JsonObject obj)
            throw new UserInputException($"{file}: expected a JSON object");
        return FromJson(obj, file);
    }

    /// <summary>Builds a config from JSON; <paramref name="source"/> names the input in error messages.</summary>
    public static ModelConfig FromJson(JsonObject json, string source)
    {
        var keys = new ConfigKeys(json, source);
        var modelType = keys.String("model_type", null);
        var config = modelType switch
        {
            "gpt2" => Gpt2Config(keys, json, source),
            "gptj" => GptJConfig(keys, json, source),
            "llama" or "mistral" or "qwen2" or "phi3" => LlamaFamilyConfig(keys, json, source, modelType),
            _ => throw new UserInputException(
                $"{source}: key 'model_type': '{modelType}' is not supported (supported: {string.Join(", ", ModelTypes)})"),
        };
        RequireSensibleSize(config, source);
        return config;
    }

    /// <summary>Far above any open model (the largest are under 10^12 parameters).</summary>
    const double MaxParameters = 1e13;

    /// <summary>
    /// Refuses sizes no model has (hidden_size 10^9...) before anything allocates them: the native allocator would
    /// abort the process instead of failing with a message.
    /// </summary>
    static void RequireSensibleSize(ModelConfig c, string source)
    {
        double perLayer = 4.0 * c.HiddenSize * c.NumHeads * c.HeadDim + 3.0 * c.HiddenSize * c.IntermediateSize;
        double parameters = 2.0 * c.VocabSize * c.HiddenSize + (double)c.NumLayers * perLayer;
        if (parameters > MaxParameters)
            throw new UserInputException($"{source}: sizes (vocab_size {c.VocabSize}, hidden size {c.HiddenSize}, {c.NumLayers} layers, intermediate size {c.IntermediateSize}) give about {parameters:0.#e0} parameters, more than any model ({MaxParameters:0e0})");
    }

    /// <summary>The JSON to write back: the raw keys plus the dtype the weights are stored in.</summary>
    public JsonObject ToJson(string torchDtype)
    {
        var json = (JsonObject)Raw.DeepClone();
        json["architectures"] = new JsonArray(Architecture);
        json["torch_dtype"] = torchDtype;
        return json;
    }

    static ModelConfig Gpt2Config(ConfigKeys k, JsonObject json, string source)
    {
        var hidden = k.PositiveInt("n_embd");
        var heads = k.PositiveInt("n_head");
        if (k.Bool("scale_attn_by_inverse_layer_idx", false))
            throw new UserInputException($"{source}: key 'scale_attn_by_inverse_layer_idx': true is not supported");
        if (!k.Bool("scale_attn_weights", true))
            throw new UserInputException($"{source}: key 'scale_attn_weights': false is not supported");
        return new ModelConfig
        {
            Source = source, Raw = json, ModelType = "gpt2", Architecture = "GPT2LMHeadModel",
            VocabSize = k.PositiveInt("vocab_size"), HiddenSize = hidden, NumLayers = k.PositiveInt("n_layer"),
            NumHeads = heads, NumKvHeads = heads, HeadDim = k.HeadDim(hidden, heads, "n_embd", "n_head"),
            IntermediateSize = k.OptionalPositiveInt("n_inner") ?? 4 * hidden,
            MaxPositions = k.PositiveInt("n_positions"), NormEps = k.Double("layer_norm_epsilon", 1e-5),
            HiddenAct = k.String("activation_function", "gelu_new"), TieWordEmbeddings = k.Bool("tie_word_embeddings", true),
            QkvBias = true, OutputBias = true, MlpBias = true, RopeTheta = 0, RotaryDim = 0, RopeScaling = null,
            SlidingWindow = null, InitializerRange = k.Double("initializer_range", 0.02),
            EmbeddingDropout = k.Probability("embd_pdrop", 0.1), AttentionDropout = k.Probability("attn_pdrop", 0.1),
            ResidualDropout = k.Probability("resid_pdrop", 0.1),
            BosTokenId = k.OptionalInt("bos_token_id"), EosTokenIds = k.TokenIds("eos_token_id"), PadTokenId = k.OptionalInt("pad_token_id"),
        };
    }

    static ModelConfig GptJConfig(ConfigKeys k, JsonObject json, string source)
    {
        var hidden = k.PositiveInt("n_embd");
        var heads = k.PositiveInt("n_head");
        var headDim = k.HeadDim(hidden, heads, "n_embd", "n_head");
        var rotaryDim = k.OptionalPositiveInt("rotary_dim") ?? headDim;
        if (rotaryDim > headDim || rotaryDim % 2 != 0)
            throw new UserInputException($"{source}: key 'rotary_dim': {rotaryDim} must be even and at most the head size {headDim}");
        if (k.Bool("tie_word_embeddings", false))
            throw new UserInputException($"{source}: key 'tie_word_embeddings': true is not supported for gptj (its lm_head has its own bias)");
        return new ModelConfig
        {
            Source = source, Raw = json, ModelType = "gptj", Architecture = "GPTJForCausalLM",
            VocabSize = k.PositiveInt("vocab_size"), HiddenSize = hidden, NumLayers = k.PositiveInt("n_layer"),
            NumHeads = heads, NumKvHeads = heads, HeadDim = headDim,
            IntermediateSize = k.OptionalPositiveInt("n_inner") ?? 4 * hidden,
            MaxPositions = k.PositiveInt("n_positions"), NormEps = k.Double("layer_norm_epsilon", 1e-5),
            HiddenAct = k.String("activation_function", "gelu_new"), TieWordEmbeddings = false,
            QkvBias = false, OutputBias = false, MlpBias = true, RopeTheta = 10000, RotaryDim = rotaryDim, RopeScaling = null,
            SlidingWindow = null, InitializerRange = k.Double("initializer_range", 0.02),
            EmbeddingDropout = k.Probability("embd_pdrop", 0), AttentionDropout = k.Probability("attn_pdrop", 0),
            ResidualDropout = k.Probability("resid_pdrop", 0),
            BosTokenId = k.OptionalInt("bos_token_id"), EosTokenIds = k.TokenIds("eos_token_id"), PadTokenId = k.OptionalInt("pad_token_id"),
        };
    }

    static ModelConfig LlamaFamilyConfig(ConfigKeys k, JsonObject json, string source, string modelType)
    {
        var hidden = k.PositiveInt("hidden_size");
        var heads = k.PositiveInt("num_attention_heads");
        var kvHeads = k.OptionalPositiveInt("num_key_value_heads") ?? heads;
        if (heads % kvHeads != 0)
            throw new UserInputException($"{source}: key 'num_key_value_heads': {kvHeads} does not divide num_attention_heads {heads}");
        var headDim = modelType is "llama" or "mistral"
            ? k.OptionalPositiveInt("head_dim") ?? k.HeadDim(hidden, heads, "hidden_size", "num_attention_heads")
            : k.HeadDim(hidden, heads, "hidden_size", "num_attention_heads");
        var rotaryDim = (int)(headDim * k.Double("partial_rotary_factor", 1.0));
        if (rotaryDim <= 0 || rotaryDim > headDim || rotaryDim % 2 != 0)
            throw new UserInputException($"{source}: key 'partial_rotary_factor' gives {rotaryDim} rotary dims for head size {headDim}; need an even number in 2..{headDim}");
        var attentionBias = k.Bool("attention_bias", false);
        if (modelType == "qwen2" && k.Bool("use_sliding_window", false))
            throw new UserInputException($"{source}: key 'use_sliding_window': true is not supported for qwen2");
        return new ModelConfig
        {
            Source = source, Raw = json, ModelType = modelType,
            Architecture = modelType switch
            {
                "mistral" => "MistralForCausalLM", "qwen2" => "Qwen2ForCausalLM", "phi3" => "Phi3ForCausalLM", _ => "LlamaForCausalLM",
            },
            VocabSize = k.PositiveInt("vocab_size"), HiddenSize = hidden, NumLayers = k.PositiveInt("num_hidden_layers"),
            NumHeads = heads, NumKvHeads = kvHeads, HeadDim = headDim, IntermediateSize = k.PositiveInt("intermediate_size"),
            MaxPositions = k.PositiveInt("max_position_embeddings"), NormEps = k.Double("rms_norm_eps", 1e-6),
            HiddenAct = k.String("hidden_act", "silu"), TieWordEmbeddings = k.Bool("tie_word_embeddings", false),
            QkvBias = modelType == "qwen2" || (modelType == "llama" && attentionBias),
            OutputBias = modelType == "llama" && attentionBias,
            MlpBias = modelType == "llama" && k.Bool("mlp_bias", false),
            RopeTheta = k.Double("rope_theta", 10000), RotaryDim = rotaryDim, RopeScaling = k.RopeScaling(),
            SlidingWindow = modelType is "mistral" or "phi3" ? k.OptionalPositiveInt("sliding_window") : null,
            InitializerRange = k.Double("initializer_range", 0.02),
            EmbeddingDropout = modelType == "phi3" ? k.Probability("embd_pdrop", 0) : 0,
            AttentionDropout = k.Probability("attention_dropout", 0),
            ResidualDropout = modelType == "phi3" ? k.Probability("resid_pdrop", 0) : 0,
            BosTokenId = k.OptionalInt("bos_token_id"), EosTokenIds = k.TokenIds("eos_token_id"), PadTokenId = k.OptionalInt("pad_token_id"),
        };
    }
}
