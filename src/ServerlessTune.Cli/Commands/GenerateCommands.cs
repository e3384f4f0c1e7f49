using System.CommandLine;
using System.Text.Json;
using ServerlessTune.Core.Chat;
using ServerlessTune.Core.Generation;
using ServerlessTune.Core.Modeling;

namespace ServerlessTune.Cli.Commands;

/// <summary>`stune generate` (one completion, streamed to stdout) and `stune chat` (interactive, streaming).</summary>
internal static class GenerateCommands
{
    public static Command Create()
    {
        var flags = new ModelFlags();
        var prompt = new Option<string>("--prompt") { Description = "Text to continue (or, with --chat, the user's message).", Required = true };
        var chat = new Option<bool>("--chat") { Description = "Send the prompt as a user message through the model's chat template." };
        var json = new Option<bool>("--json") { Description = "Print one JSON document (text, finish_reason, token counts) instead of streaming." };
        var command = new Command("generate", "Generate text from a model folder.");
        flags.AddTo(command);
        command.Options.Add(prompt);
        command.Options.Add(chat);
        command.Options.Add(json);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = flags.Options(parse);
            using var model = flags.Open(parse);
            var text = parse.GetValue(prompt)!;
            int[] ids;
            if (parse.GetValue(chat))
            {
                ids = model.EncodeChat([new ChatMessage(ChatMessage.User, text)]);
                options = model.ForChat(options);
            }
            else
            {
                ids = model.Tokenizer.EncodePlain(text);
            }

            if (parse.GetValue(json))
            {
                var result = model.Generator.Generate([ids], options, cancellationToken: cancellationToken)[0];
                Console.Out.WriteLine(JsonSerializer.Serialize(new
                {
                    text = result.Text,
                    finish_reason = result.FinishReason.ToString().ToLowerInvariant(),
                    prompt_tokens = result.PromptTokens,
                    completion_tokens = result.TokenIds.Length,
                }));
                return 0;
            }
            await foreach (var delta in model.Generator.StreamAsync(ids, options, cancellationToken))
                Console.Out.Write(delta);
            Console.Out.WriteLine();
            return 0;
        });
        return command;
    }

    public static Command CreateChat()
    {
        var flags = new ModelFlags();
        var system = new Option<string?>("--system") { Description = "System message that opens the conversation." };
        var command = new Command("chat", "Chat with a model: one user message per stdin line, replies stream to stdout; '/exit' or end of input quits.");
        flags.AddTo(command);
        command.Options.Add(system);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = flags.Options(parse);
            using var model = flags.Open(parse);
            var session = new ChatSession(model, options, parse.GetValue(system));
            while (true)
            {
                Console.Error.Write("> ");
                var line = await Console.In.ReadLineAsync(cancellationToken);
                if (line is null || line.Trim() == "/exit") break;
                if (line.Trim().Length == 0) continue;
                await foreach (var delta in session.SendAsync(line, cancellationToken))
                    Console.Out.Write(delta);
                Console.Out.WriteLine();
            }
            return 0;
        });
        return command;
    }

    /// <summary>The flags both commands share: which model, and how to sample.</summary>
    sealed class ModelFlags
    {
        readonly Option<string> model = new("--model") { Description = "Model folder (Hugging Face layout).", Required = true };
        readonly Option<string?> adapter = new("--adapter") { Description = "LoRA adapter folder (PEFT layout) to merge into the model." };
        readonly Option<string?> template = new("--chat-template") { Description = "Override the chat template (chatml, llama2, llama3, phi3, zephyr, plain)." };
        readonly FormatFlag format = new("How to hold the weights: fp32 (default), bf16 (fp32 arithmetic) or int8 (weight-only).");
        readonly DecodingFlags decoding = new(defaultMaxNewTokens: 128);

        public void AddTo(Command command)
        {
            foreach (var option in new Option[] { model, adapter, template, format.Option })
                command.Options.Add(option);
            decoding.AddTo(command);
        }

        public ChatModel Open(ParseResult parse)
        {
            Console.Error.WriteLine($"loading {parse.GetValue(model)}");
            return ChatModel.Load(parse.GetValue(model)!, parse.GetValue(adapter), parse.GetValue(template), format.Value(parse) ?? WeightFormat.Fp32);
        }

        public GenerationOptions Options(ParseResult parse) => decoding.Options(parse);
    }
}
