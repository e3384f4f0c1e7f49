using System.CommandLine;
using System.Text.Json;
using ServerlessTune.Core.Tokenization;

namespace ServerlessTune.Cli.Commands;

/// <summary>`stune tokenize`: token ids of text as a model sees it.</summary>
internal static class TokenizeCommands
{
    public static Command Create()
    {
        var tokenizer = new Option<string>("--tokenizer")
        {
            Description = "Model folder (tokenizer.json, vocab.json + merges.txt or tokenizer.model) or gpt2, cl100k, o200k.",
            Required = true,
        };
        var text = new Option<string?>("--text") { Description = "The text to tokenize." };
        var jsonFile = new Option<string?>("--json-file")
        {
            Description = "A JSON array of strings; prints a JSON array of id arrays, one per string, in order.",
        };
        var json = new Option<bool>("--json") { Description = "Print one JSON document (with --text: an array of ids)." };
        var allowSpecial = new Option<bool>("--allow-special")
        {
            Description = "Turn special-token strings such as <|endoftext|> into their ids (trusted input only).",
        };
        var command = new Command("tokenize", "Print token ids. Input is plain text: special-token strings get ordinary ids.")
        {
            tokenizer, text, jsonFile, json, allowSpecial,
        };
        command.Validators.Add(result =>
        {
            if ((result.GetValue(text) is null) == (result.GetValue(jsonFile) is null))
                result.AddError("give exactly one of --text and --json-file");
        });
        command.SetAction(parse =>
        {
            var loaded = TokenizerLoader.Load(parse.GetValue(tokenizer)!);
            Func<string, int[]> encode = parse.GetValue(allowSpecial) ? loaded.EncodeWithSpecialTokens : loaded.EncodePlain;
            if (parse.GetValue(jsonFile) is { } file)
            {
                var ids = StringListFile.Read(file).Select(encode).ToArray();
                Console.Error.WriteLine($"{ids.Length} strings, {ids.Sum(i => i.Length)} tokens ({loaded.Name})");
                Console.Out.WriteLine(JsonSerializer.Serialize(ids));
                return 0;
            }
            var single = encode(parse.GetValue(text)!);
            Console.Out.WriteLine(parse.GetValue(json) ? JsonSerializer.Serialize(single) : string.Join(' ', single));
            return 0;
        });
        return command;
    }
}
