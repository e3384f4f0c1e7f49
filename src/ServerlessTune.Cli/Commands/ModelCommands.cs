using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using ServerlessTune.Core.Modeling;

namespace ServerlessTune.Cli.Commands;

/// <summary>`stune model info` (architecture and exact parameter count from config.json) and `stune model init`.</summary>
internal static class ModelCommands
{
    public static Command Create() => new("model", "Inspect or create model checkpoints.") { CreateInfo(), CreateInit() };

    static Command CreateInfo()
    {
        var path = new Argument<string>("model") { Description = "Model folder or its config.json." };
        var json = new Option<bool>("--json") { Description = "Print one JSON document." };
        var command = new Command("info", "Architecture and exact parameter count, read from config.json without loading weights.") { path, json };
        command.SetAction(parse =>
        {
            var s = ModelSummary.Describe(parse.GetValue(path)!);
            if (parse.GetValue(json))
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(new
                {
                    architecture = s.Architecture, model_type = s.ModelType, parameters = s.Parameters, num_hidden_layers = s.Layers,
                    hidden_size = s.HiddenSize, num_attention_heads = s.Heads, num_key_value_heads = s.KvHeads, vocab_size = s.VocabSize,
                    context_length = s.ContextLength, tie_word_embeddings = s.TiedEmbeddings, torch_dtype = s.TorchDtype,
                }));
                return 0;
            }
            var heads = s.KvHeads == s.Heads ? $"{s.Heads} heads" : $"{s.Heads} heads ({s.KvHeads} key/value)";
            Console.Out.WriteLine($"{s.Architecture} ({s.ModelType}): {s.Parameters.ToString("N0", CultureInfo.InvariantCulture)} parameters");
            Console.Out.WriteLine(
                $"{s.Layers} layers, hidden {s.HiddenSize}, {heads}, vocab {s.VocabSize}, context {s.ContextLength}, " +
                $"{(s.TiedEmbeddings ? "tied" : "untied")} embeddings{(s.TorchDtype is null ? "" : $", {s.TorchDtype}")}");
            return 0;
        });
        return command;
    }

    static Command CreateInit()
    {
        var arch = new Option<string>("--arch") { Description = "Architecture.", Required = true };
        arch.AcceptOnlyFromAmong(ModelPresets.Architectures);
        var preset = new Option<string>("--preset") { Description = "Size: tiny (hidden 64, 2 layers) or small (hidden 512, 8 layers).", Required = true };
        preset.AcceptOnlyFromAmong(ModelPresets.Presets);
        var output = new Option<string>("--out") { Description = "Folder to write the checkpoint to.", Required = true };
        var seed = new Option<long>("--seed") { Description = "Seed for the random weights; the same seed writes the same bits.", DefaultValueFactory = _ => 0 };
        var tokenizer = new Option<string?>("--tokenizer") { Description = $"Tokenizer spec (gpt2, cl100k, o200k or a model folder); default {ModelInitializer.DefaultTokenizer}." };
        var json = new Option<bool>("--json") { Description = "Print one JSON document." };
        var command = new Command("init", "Write a randomly initialised checkpoint in the Hugging Face layout, with a tokenizer.")
        {
            arch, preset, output, seed, tokenizer, json,
        };
        command.SetAction(parse =>
        {
            var dir = parse.GetValue(output)!;
            Console.Error.WriteLine($"initialising {parse.GetValue(arch)} {parse.GetValue(preset)} in {dir} ...");
            var result = ModelInitializer.Run(parse.GetValue(arch)!, parse.GetValue(preset)!, dir, parse.GetValue(seed), parse.GetValue(tokenizer));
            if (parse.GetValue(json))
                Console.Out.WriteLine(JsonSerializer.Serialize(new
                {
                    path = Path.GetFullPath(dir), architecture = result.Config.Architecture, model_type = result.Config.ModelType,
                    parameters = result.Parameters, vocab_size = result.Config.VocabSize,
                }));
            else
                Console.Out.WriteLine(Path.GetFullPath(dir));
            return 0;
        });
        return command;
    }
}
