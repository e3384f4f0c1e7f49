using ServerlessTune.Core.Chat;
using ServerlessTune.Core.Modeling;
using ServerlessTune.Core.Modeling.Peft;
using ServerlessTune.Core.Tokenization;

namespace ServerlessTune.Core.Generation;

/// <summary>
/// A model folder opened for generation: the checkpoint (with a LoRA adapter merged in when given), its
/// tokenizer and its chat template. A sequence ends at any EOS id of the config or tokenizer and at the
/// template's end-of-turn tokens.
/// </summary>
public sealed class ChatModel : IDisposable
{
    ChatModel(CausalLM model, ITextTokenizer tokenizer, IChatTemplate template)
    {
        Tokenizer = tokenizer;
        Template = template;
        int[] ends = [.. model.Config.EosTokenIds, .. template.StopTokenIds, .. tokenizer.EosTokenId is { } eos ? [eos] : Array.Empty<int>()];
        Generator = new TextGenerator(model, tokenizer, ends.Distinct());
    }

    public TextGenerator Generator { get; }
    public ITextTokenizer Tokenizer { get; }
    public IChatTemplate Template { get; }

    public static ChatModel Load(string modelDirectory, string? adapterDirectory = null, string? templateName = null)
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
            return new ChatModel(model, TokenizerLoader.Load(modelDirectory), ChatTemplates.For(modelDirectory, templateName));
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
