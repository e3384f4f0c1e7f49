using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using ServerlessTune.Core.Modeling;

namespace ServerlessTune.Cli.Tests;

/// <summary>
/// Seeded fuzzing of the three files a user hands stune (pipeline.json, a model's config.json, its safetensors
/// weights), plus hostile connection strings, through the real executable: every case is exit 1 with one line on
/// stderr naming the file, and never a stack trace. Every generated case is invalid by construction.
/// </summary>
public sealed class HostileInputTests : IDisposable
{
    const int Seed = 1616, CasesPerFile = 6;
    readonly string _root = Directory.CreateTempSubdirectory("stune-hostile-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    static void AssertOneLine(StuneResult result, string names)
    {
        Assert.True(result.ExitCode == 1, $"exit {result.ExitCode}: {result.Stderr}");
        Assert.Equal("", result.Stdout);
        Assert.DoesNotContain("   at ", result.Stderr);
        Assert.DoesNotContain("Unhandled exception", result.Stderr);
        // Progress lines ("loading ...") may come first; the failure itself is the one last line.
        var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Count(l => l.StartsWith("error: ")) == 1, result.Stderr);
        Assert.StartsWith("error: ", lines[^1]);
        Assert.Contains(names, lines[^1]);
    }

    // Per key, values that can never work: out of range, absurd, wrong type, or a file that is not there.
    static readonly (string Section, string Key, JsonNode?[] Values)[] BadPipelineValues =
    [
        ("train", "batch_size", [0, -3, 1_000_000_000_000, "8", 2.5]),
        ("train", "learning_rate", [-1, 0, "fast"]),
        ("train", "epochs", [0, 1_000_000_000, true]),
        ("train", "grad_accum", [0, 10_000_000]),
        ("train", "lora_rank", [0, 100_000_000]),
        ("eval", "max_new_tokens", [0, 1_000_000_000_000]),
        ("eval", "suite", ["missing.jsonl", "../../etc/passwd"]),
        ("prepare", "validation_fraction", [1.5, -0.1]),
        ("gate", "mode", ["sometimes", 3]),
        ("trian", "epochs", [1]),
    ];

    [Fact]
    public void Fuzzed_pipeline_json_is_one_line_naming_it_before_anything_is_stored()
    {
        var random = new Random(Seed);
        string dataset = Directory.CreateDirectory(Path.Combine(_root, "acme")).FullName;
        File.WriteAllText(Path.Combine(dataset, "faq.csv"), "question,answer\nHow do I reset it?,Hold the button.\n");
        string store = Path.Combine(_root, "store"), pipeline = Path.Combine(dataset, "pipeline.json");
        for (int i = 0; i < CasesPerFile; i++)
        {
            var (section, key, values) = BadPipelineValues[random.Next(BadPipelineValues.Length)];
            var json = new JsonObject { ["gate"] = new JsonObject { ["mode"] = "advisory", ["rules"] = new JsonArray() } };
            if (json[section] is not JsonObject target) json[section] = target = new JsonObject();
            target[key] = values[random.Next(values.Length)]?.DeepClone();
            string text = json.ToJsonString();
            // Every other case is also cut short at a random byte: invalid JSON must be named with its line too.
            if (i % 2 == 1) text = text[..random.Next(1, text.Length - 1)];
            File.WriteAllText(pipeline, text);

            var result = Stune.Run("run", dataset, "--store", store);

            AssertOneLine(result, pipeline);
            Assert.False(Directory.Exists(Path.Combine(store, "datasets")), $"{text}: data was stored before the config was refused");
        }
    }

    [Fact]
    public void Fuzzed_config_json_and_safetensors_headers_are_one_line_naming_the_file()
    {
        var random = new Random(Seed);
        string model = Path.Combine(_root, "model");
        ModelInitializer.Run("llama", "tiny", model, seed: 5);
        string config = Path.Combine(model, "config.json"), weights = Path.Combine(model, "model.safetensors");
        string goodConfig = File.ReadAllText(config);
        byte[] goodWeights = File.ReadAllBytes(weights);

        for (int i = 0; i < CasesPerFile; i++)
        {
            File.WriteAllText(config, BadConfig(goodConfig, random));
            AssertOneLine(Generate(model), config);
        }
        File.WriteAllText(config, goodConfig);
        for (int i = 0; i < CasesPerFile; i++)
        {
            File.WriteAllBytes(weights, BadWeights(goodWeights, random));
            AssertOneLine(Generate(model), weights);
        }
    }

    [Theory]
    [InlineData("DefaultEndpointsProtocol=https;AccountName=x", "storage connection string: malformed")]
    [InlineData("not a connection string at all", "storage connection string: malformed")]
    [InlineData("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:1/devstoreaccount1;QueueEndpoint=http://127.0.0.1:1/devstoreaccount1;TableEndpoint=http://127.0.0.1:1/devstoreaccount1;",
        "cannot create or reach the container")]
    public void A_bad_or_unreachable_connection_is_one_line(string connection, string reason)
    {
        string dataset = Directory.CreateDirectory(Path.Combine(_root, "acme")).FullName;
        File.WriteAllText(Path.Combine(dataset, "faq.csv"), "question,answer\nHow do I reset it?,Hold the button.\n");
        var result = Stune.Run("run", dataset, "--connection", connection);
        AssertOneLine(result, reason);
        Assert.DoesNotContain("AccountKey", result.Stderr);
    }

    static StuneResult Generate(string model) =>
        Stune.Run("generate", "--model", model, "--prompt", "Hi", "--max-new-tokens", "2");

    static string BadConfig(string good, Random random)
    {
        var json = JsonNode.Parse(good)!.AsObject();
        switch (random.Next(5))
        {
            case 0: json["hidden_size"] = 1_000_000_000; json["intermediate_size"] = 1_000_000_000; break;
            case 1: json["num_hidden_layers"] = random.Next(2) == 0 ? -1 : 0; break;
            case 2: json["vocab_size"] = "many"; break;
            case 3: json["num_key_value_heads"] = 3; break; // does not divide the tiny preset's heads
            default: return good[..random.Next(1, good.Length - 1)];
        }
        return json.ToJsonString();
    }

    static byte[] BadWeights(byte[] good, Random random)
    {
        long headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(good);
        var header = JsonNode.Parse(Encoding.UTF8.GetString(good, 8, (int)headerLength))!.AsObject();
        byte[] data = good[(8 + (int)headerLength)..];
        var tensor = header.First(p => p.Key != "__metadata__").Value!.AsObject();
        switch (random.Next(7))
        {
            case 0: return Frame(ulong.MaxValue, Encoding.UTF8.GetBytes(header.ToJsonString()), data);
            case 1: return Frame((ulong)good.Length, Encoding.UTF8.GetBytes(header.ToJsonString()), data);
            case 2: return good[..random.Next(1, 8 + (int)headerLength)];
            case 3: tensor["dtype"] = "F99"; break;
            case 4: tensor["shape"] = new JsonArray(1_000_000, 1_000_000); break;
            case 5: tensor["data_offsets"] = new JsonArray(0, data.Length + 1_000); break;
            default: return Frame(7, Encoding.UTF8.GetBytes("{\"a\":[[["), data);
        }
        byte[] bytes = Encoding.UTF8.GetBytes(header.ToJsonString());
        return Frame((ulong)bytes.Length, bytes, data);
    }

    static byte[] Frame(ulong length, byte[] header, byte[] data)
    {
        var file = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, length);
        header.CopyTo(file, 8);
        data.CopyTo(file, 8 + header.Length);
        return file;
    }
}
