using ServerlessTune.Core.Chat;
using ServerlessTune.Core.Modeling;
using ServerlessTune.Core.Modeling.Peft;
using ServerlessTune.Core.Tokenization;

namespace ServerlessTune.Core.Generation;

/// <summary>
/// A model folder opened for generation: the checkpoint (with a LoRA adapter merged in when given), its
/// tokenizer, its chat template and its generation_config.json. A sequence ends at any EOS id of the config,
/// generation config or tokenizer and at the template's end-of-turn tokens.
/// </summary>
public sealed class ChatModel : IDisposable
{
    ChatModel(CausalLM model, ITextTokenizer tokenizer, IChatTemplate template, GenerationConfig defaults)
    {
        Tokenizer = tokenizer;
        Template = template;
        Defaults = defaults;
        int[] ends = [.. model.Config.EosTokenIds, .. defaults.EosTokenIds, .. template.StopTokenIds,
            .. tokenizer.EosTokenId is { } eos ? [eos] : Array.Empty<int>()];
        Generator = new TextGenerator(model, tokenizer, ends.Distinct());
    }

    public TextGenerator Generator { get; }
    public ITextTokenizer Tokenizer { get; }
    public IChatTemplate Template { get; }
    public GenerationConfig Defaults { get; }
    public WeightFormat Format => Generator.Model.WeightFormat;

    /// <param name="format">How the weights are held for decoding: converted after the adapter is merged, so a
    /// narrow format is always rounded from the trained fp32 weights.</param>
    public static ChatModel Load(string modelDirectory, string? adapterDirectory = null, string? templateName = null,
        WeightFormat format = WeightFormat.Fp32)
    {
        var model = Checkpoint.Load(modelDirectory);
        try
        {
            if (adapterDirectory is not null)
            {
                if (!Directory.Exists(adapterDirectory))
                    throw new UserInputException($"{adapterDirectory}: adapter folder not found");
                PeftAdapter.Load(model, adapterDirectory);
                // Folding the adapter into the weights makes decoding as fast as the base model.
                LoraInjector.MergeAll(model);
            }
            model.ConvertWeights(format);
            return new ChatModel(model, TokenizerLoader.Load(modelDirectory), ChatTemplates.For(modelDirectory, templateName),
                GenerationConfig.Load(modelDirectory));
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>The conversation as the template renders it, ending with the assistant header.</summary>
    public int[] EncodeChat(IReadOnlyList<ChatMessage> messages) => Template.Encode(messages, addGenerationPrompt: true).Ids;

    /// <summary>Options for an assistant turn: the template's textual end-of-turn strings stop it too.</summary>
    public GenerationOptions ForChat(GenerationOptions options) =>
        options with { StopStrings = [.. options.StopStrings.Concat(Template.StopStrings).Distinct()] };

    public void Dispose() => Generator.Model.Dispose();
}
