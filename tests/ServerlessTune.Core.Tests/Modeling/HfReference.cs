using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using ServerlessTune.Core.Tokenization;

namespace ServerlessTune.Core.Tests.Modeling;

/// <summary>One eval record of reference.json: rendered ids, assistant mask, and Transformers' NLL of each next token.</summary>
public sealed record HfEvalRecord(int[] Ids, bool[] AssistantMask, double[] Nll)
{
    public ChatEncoding Encoding => new(Ids, AssistantMask);
}

/// <summary>
/// One checkpoint of ../shared/fixtures/hf-reference (beside the repository, as CI clones it) with what
/// Hugging Face Transformers computed on it: reference.json, logprobs.npy and eval/validation.jsonl.
/// </summary>
public sealed class HfReference
{
    public static readonly string[] Architectures = ["gpt2", "gptj", "llama", "mistral", "phi3", "qwen2"];

    public static TheoryData<string> All => new(Architectures);

    HfReference(string folder, JsonElement json)
    {
        Folder = folder;
        Prompt = json.GetProperty("prompt").GetString()!;
        PromptIds = Ints(json.GetProperty("prompt_ids"));
        MaxNewTokens = json.GetProperty("max_new_tokens").GetInt32();
        GreedyIds = Ints(json.GetProperty("greedy_ids"));
        SequenceIds = Ints(json.GetProperty("sequence_ids"));
        TargetLogprobs = Doubles(json.GetProperty("target_logprobs"));
        Eval = json.GetProperty("eval").EnumerateArray()
            .Select(r => new HfEvalRecord(Ints(r.GetProperty("ids")),
                r.GetProperty("assistant_mask").EnumerateArray().Select(m => m.GetBoolean()).ToArray(),
                Doubles(r.GetProperty("nll"))))
            .ToArray();
        var metrics = json.GetProperty("eval_metrics");
        (EvalNll, EvalNllAll, EvalTop1) = (metrics.GetProperty("nll").GetDouble(), metrics.GetProperty("nll_all").GetDouble(),
            metrics.GetProperty("top1").GetDouble());
        (EvalAssistantTokens, EvalAllTokens) = (metrics.GetProperty("assistant_tokens").GetInt64(), metrics.GetProperty("all_tokens").GetInt64());
    }

    public string Folder { get; }
    public string ModelDirectory => Path.Combine(Folder, "model");
    public string ValidationFile => Path.Combine(Folder, "eval", "validation.jsonl");
    public string Prompt { get; }
    public int[] PromptIds { get; }
    public int MaxNewTokens { get; }
    public int[] GreedyIds { get; }
    public int[] SequenceIds { get; }
    /// <summary>log p(sequence[t + 1] | sequence[..t]) for t = 0 .. length - 2.</summary>
    public double[] TargetLogprobs { get; }
    public HfEvalRecord[] Eval { get; }
    public double EvalNll { get; }
    public double EvalNllAll { get; }
    public double EvalTop1 { get; }
    public long EvalAssistantTokens { get; }
    public long EvalAllTokens { get; }

    /// <summary>logprobs.npy: the full log-softmax, [positions of sequence_ids, vocabulary].</summary>
    public (float[] Values, long[] Shape) FullLogprobs() => Npy.ReadFloat32(Path.Combine(Folder, "logprobs.npy"));

    public static HfReference Load(string arch)
    {
        var folder = Path.Combine(Root(), arch);
        var file = Path.Combine(folder, "reference.json");
        if (!File.Exists(file))
            throw new FileNotFoundException($"{file}: reference outputs of Transformers not found", file);
        using var json = JsonDocument.Parse(File.ReadAllBytes(file));
        return new HfReference(folder, json.RootElement.Clone());
    }

    /// <summary>../shared/fixtures/hf-reference next to the repository root; missing is a failure, never a skip.</summary>
    public static string Root([CallerFilePath] string thisFile = "")
    {
        var dir = new DirectoryInfo(Path.GetDirectoryName(thisFile)!);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "ServerlessTune.sln"))) dir = dir.Parent;
        if (dir?.Parent is null)
            throw new DirectoryNotFoundException($"ServerlessTune.sln not found above {thisFile}");
        var root = Path.Combine(dir.Parent.FullName, "shared", "fixtures", "hf-reference");
        if (!Directory.Exists(root))
            throw new DirectoryNotFoundException(
                $"{root}: the Transformers reference checkpoints are missing (clone the shared fixtures beside the repository)");
        return root;
    }

    static int[] Ints(JsonElement array) => array.EnumerateArray().Select(e => e.GetInt32()).ToArray();
    static double[] Doubles(JsonElement array) => array.EnumerateArray().Select(e => e.GetDouble()).ToArray();
}

/// <summary>NumPy .npy, format 1.0, little-endian float32, C order: the one layout the fixtures use.</summary>
public static partial class Npy
{
    public static (float[] Values, long[] Shape) ReadFloat32(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 10 || bytes[0] != 0x93 || !bytes.AsSpan(1, 5).SequenceEqual("NUMPY"u8))
            throw new InvalidDataException($"{path}: not a .npy file");
        if (bytes[6] != 1 || bytes[7] != 0)
            throw new InvalidDataException($"{path}: .npy format {bytes[6]}.{bytes[7]}, expected 1.0");
        int headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8));
        var header = Encoding.ASCII.GetString(bytes, 10, headerLength);
        var match = Header().Match(header);
        if (!match.Success)
            throw new InvalidDataException($"{path}: header {header.Trim()} is not little-endian float32 in C order");
        var shape = match.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(long.Parse).ToArray();
        var count = shape.Aggregate(1L, (a, b) => a * b);
        var offset = 10 + headerLength;
        if (bytes.Length - offset != count * sizeof(float))
            throw new InvalidDataException($"{path}: {bytes.Length - offset} data bytes, shape [{string.Join(", ", shape)}] needs {count * sizeof(float)}");
        var values = new float[count];
        for (var i = 0; i < count; i++)
            values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(offset + i * sizeof(float)));
        return (values, shape);
    }

    [GeneratedRegex(@"^\{'descr': '<f4', 'fortran_order': False, 'shape': \(([\d, ]*)\), \}\s*$")]
    private static partial Regex Header();
}
