using System.Text.Json;
using ServerlessTune.Core.Storage;
using TorchSharp.Modules;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Training;

/// <summary>
/// checkpoints/step-{n}/: the trainable tensors (adapter or full weights, state-dict names), the optimizer
/// state and <see cref="TrainerState"/>. A checkpoint is written with <see cref="AtomicFile.WriteFolder"/>, so a
/// folder named step-{n} is always complete; a kill mid-write leaves only a hidden temporary folder, which
/// resume ignores and the next save removes. The last <see cref="Keep"/> checkpoints are kept.
/// </summary>
public sealed class TrainingCheckpoints(string runDirectory)
{
    public const int Keep = 2;
    const string WeightsFile = "trainable.safetensors";
    const string OptimizerFile = "optimizer.bin";
    public const string StateFile = "trainer_state.json";

    public string Directory { get; } = Path.Combine(runDirectory, RunPaths.CheckpointsFolder);
    public string BestDirectory => Path.Combine(Directory, "best");

    public string Save(TrainerState state, IReadOnlyList<(string Name, Parameter Parameter)> trainable, OptimizerHelper optimizer)
    {
        string final = Path.Combine(Directory, RunPaths.CheckpointPrefix + state.Step);
        AtomicFile.WriteFolder(final, temp =>
        {
            SaveWeights(Path.Combine(temp, WeightsFile), trainable);
            using (var file = File.Create(Path.Combine(temp, OptimizerFile)))
            using (var writer = new BinaryWriter(file))
            {
                optimizer.save_state_dict(writer);
                writer.Flush();
                file.Flush(flushToDisk: true);
            }
            WriteDurably(Path.Combine(temp, StateFile), JsonSerializer.SerializeToUtf8Bytes(state, TrainerState.Json));
        });
        Prune();
        return final;
    }

    /// <summary>The weights of the best validation so far (early stopping restores them at the end).</summary>
    public void SaveBest(IReadOnlyList<(string Name, Parameter Parameter)> trainable)
    {
        AtomicFile.WriteFolder(BestDirectory, temp => SaveWeights(Path.Combine(temp, WeightsFile), trainable));
    }

    public bool HasBest => File.Exists(Path.Combine(BestDirectory, WeightsFile));

    public void LoadBest(IReadOnlyList<(string Name, Parameter Parameter)> trainable) =>
        LoadWeights(Path.Combine(BestDirectory, WeightsFile), trainable);

    /// <summary>The newest complete checkpoint, or null.</summary>
    public string? Latest() => NewestFirst().FirstOrDefault(d => File.Exists(Path.Combine(d, StateFile)));

    IEnumerable<string> NewestFirst() =>
        !System.IO.Directory.Exists(Directory) ? []
        : System.IO.Directory.EnumerateDirectories(Directory, RunPaths.CheckpointPrefix + "*")
            .Select(d => (Dir: d, Step: int.TryParse(Path.GetFileName(d)[RunPaths.CheckpointPrefix.Length..], out int s) ? s : -1))
            .Where(c => c.Step >= 0)
            .OrderByDescending(c => c.Step)
            .Select(c => c.Dir);

    public static TrainerState Load(string checkpoint, IReadOnlyList<(string Name, Parameter Parameter)> trainable, OptimizerHelper optimizer)
    {
        var state = ReadState(checkpoint);
        LoadWeights(Path.Combine(checkpoint, WeightsFile), trainable);
        using var file = File.OpenRead(Path.Combine(checkpoint, OptimizerFile));
        using var reader = new BinaryReader(file);
        optimizer.load_state_dict(reader);
        return state;
    }

    public static TrainerState ReadState(string checkpoint)
    {
        string path = Path.Combine(checkpoint, StateFile);
        try
        {
            return JsonSerializer.Deserialize<TrainerState>(File.ReadAllBytes(path), TrainerState.Json)
                   ?? throw new UserInputException($"{path}: empty trainer state");
        }
        catch (JsonException ex)
        {
            throw new UserInputException($"{path}: unreadable trainer state ({ex.Message.Split(". ")[0]})", ex);
        }
    }

    static void SaveWeights(string path, IReadOnlyList<(string Name, Parameter Parameter)> trainable)
    {
        using var file = File.Create(path);
        Safetensors.SaveStateDict(file, trainable.ToDictionary(t => t.Name, t => (Tensor)t.Parameter), leaveOpen: true);
        file.Flush(flushToDisk: true);
    }

    static void LoadWeights(string path, IReadOnlyList<(string Name, Parameter Parameter)> trainable)
    {
        var saved = Safetensors.LoadStateDict(path);
        try
        {
            using var _ = no_grad();
            foreach (var (name, parameter) in trainable)
            {
                if (!saved.TryGetValue(name, out var value))
                    throw new UserInputException($"{path}: tensor {name} missing; the checkpoint is from a different configuration");
                if (!value.shape.SequenceEqual(parameter.shape))
                    throw new UserInputException($"{path}: tensor {name} has shape [{string.Join(',', value.shape)}], the model needs [{string.Join(',', parameter.shape)}]");
                parameter.copy_(value);
            }
        }
        finally
        {
            foreach (var t in saved.Values) t.Dispose();
        }
    }

    void Prune()
    {
        foreach (var dir in NewestFirst().Skip(Keep).ToList()) System.IO.Directory.Delete(dir, recursive: true);
        // What a killed save left: hidden temporary (or moved-aside) folders.
        foreach (var leftover in System.IO.Directory.EnumerateDirectories(Directory, ".*"))
            System.IO.Directory.Delete(leftover, recursive: true);
    }

    static void WriteDurably(string path, byte[] bytes)
    {
        using var file = File.Create(path);
        file.Write(bytes);
        file.Flush(flushToDisk: true);
    }
}
