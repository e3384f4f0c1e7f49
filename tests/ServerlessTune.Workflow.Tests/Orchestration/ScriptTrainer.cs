using ServerlessTune.Core.Storage;
using ServerlessTune.Workflow.Jobs;

namespace ServerlessTune.Workflow.Tests.Orchestration;

/// <summary>
/// TEST-ONLY job programs: small shell scripts run as real child processes by the real LocalProcessJobLauncher
/// (called as: script {spec} --store {store}), standing in for stune-trainer. A training job runs the given
/// script; an evaluation job copies the outputs of a <see cref="ScriptedEvaluation"/> to where the real one writes
/// them (runs/{id}/eval/{family}.json), or is the real evaluation (<see cref="WithRealEvaluation"/>). Every job a
/// script ran is one line of <see cref="JobsRun"/>.
/// </summary>
public static class ScriptTrainer
{
    /// <summary>
    /// Writes two metrics lines and an adapter that Deploy's check accepts (a LoRA config and a well-formed
    /// safetensors file: a 54-byte header naming one F32 tensor, then its 4 bytes) into the run folder, then exits 0.
    /// </summary>
    public const string Succeeds = WritesNoModel + """

        echo '{"peft_type":"LORA","r":8,"lora_alpha":16,"lora_dropout":0,"target_modules":["q_proj"],"base_model_name_or_path":"models/base"}' > "$run/adapter/adapter_config.json"
        printf '\066\0\0\0\0\0\0\0{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}\0\0\0\0' > "$run/adapter/adapter_model.safetensors"
        """;

    /// <summary>
    /// The adapter <see cref="Succeeds"/> writes, put straight into a store: for tests whose scripts write into a scratch
    /// folder (a blob store) or that run Deploy without a training job.
    /// </summary>
    public static async Task WriteAdapterAsync(IArtifactStore store, string runId)
    {
        await store.WriteAllTextAsync($"runs/{runId}/adapter/adapter_config.json",
            """{"peft_type":"LORA","r":8,"lora_alpha":16,"lora_dropout":0,"target_modules":["q_proj"],"base_model_name_or_path":"models/base"}""");
        byte[] header = System.Text.Encoding.UTF8.GetBytes("""{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""");
        await store.WriteAsync($"runs/{runId}/adapter/adapter_model.safetensors", async (stream, ct) =>
        {
            await stream.WriteAsync(BitConverter.GetBytes((ulong)header.Length), ct);
            await stream.WriteAsync(header, ct);
            await stream.WriteAsync(new byte[4], ct);
        });
    }

    /// <summary>Exits 0 with metrics but without any model: Deploy must refuse to register it.</summary>
    public const string WritesNoModel = """
        mkdir -p "$run/adapter"
        printf '{"step":1,"loss":2.5}\n{"step":2,"loss":1.25}\n' > "$run/metrics.jsonl"
        """;

    /// <summary>Appended to a script: it exits only once a file named "release" appears in the run folder.</summary>
    public const string WaitsForRelease = """

        while [ ! -f "$run/release" ]; do sleep 0.05; done
        """;

    public const string SucceedsWhenReleased = Succeeds + WaitsForRelease;

    public const string Crashes = """
        echo "step 1/10 loss 2.5" >&2
        echo "error: training failed: out of memory at step 2" >&2
        exit 3
        """;

    public const string RunsForever = "sleep 600";

    /// <summary>Exits as a trainer does when it is interrupted (a checkpoint saved): the job is lost, to be relaunched.</summary>
    public static readonly string IsInterrupted = $"exit {LocalProcessJobLauncher.InterruptedExitCode}";

    /// <summary>
    /// Writes the base model (the store's models/base) as the run's complete checkpoint, with metrics: a candidate the
    /// real evaluation job loads and measures exactly as the base (the same weights), so the default gate
    /// (perplexity at most the base's) passes on any CPU.
    /// </summary>
    public const string CopiesTheBase = WritesNoModel + """

        mkdir -p "$run/merged"
        cp "$3/models/base/"* "$run/merged/"
        """;

    /// <param name="evaluation">What the evaluation job writes; by default a candidate that beats its base.</param>
    public static LocalTrainerCommand Write(string directory, string trainScript, ScriptedEvaluation? evaluation = null)
    {
        string outputs = Directory.CreateDirectory(Path.Combine(directory, $"eval-{Guid.NewGuid():N}")).FullName;
        foreach (var (family, json) in (evaluation ?? new ScriptedEvaluation(2.0)).Files())
            File.WriteAllText(Path.Combine(outputs, $"{family}.json"), json);
        return WriteScript(directory, trainScript, $$"""
              mkdir -p "$run/eval"
              cp "{{outputs}}"/*.json "$run/eval/"
              exit 0
            """);
    }

    /// <summary>Like <see cref="Write"/>, but the evaluation job is the real one (stune-trainer from the build output).</summary>
    public static LocalTrainerCommand WithRealEvaluation(string directory, string trainScript) =>
        WriteScript(directory, trainScript, $"""
              exec dotnet "{EndToEnd.TrainerDll}" "$@"
            """);

    static LocalTrainerCommand WriteScript(string directory, string trainScript, string evaluateScript)
    {
        string path = Path.Combine(directory, $"trainer-{Guid.NewGuid():N}.sh");
        File.WriteAllText(path, $$"""
            set -e
            job="$(basename "$(dirname "$1")")"
            run="$3/$(dirname "$(dirname "$(dirname "$1")")")"
            echo "$job" >> "{{JobsLog(path)}}"
            if [ "$job" = evaluate ]; then
            {{evaluateScript}}
            fi
            {{trainScript}}

            """);
        return new LocalTrainerCommand("sh", [path, "{spec}", "--store", "{store}"]);
    }

    /// <summary>The kinds of the jobs a script written by <see cref="Write"/> ran, in order.</summary>
    public static IReadOnlyList<string> JobsRun(LocalTrainerCommand command)
    {
        string log = JobsLog(command.Arguments[0]);
        return File.Exists(log) ? File.ReadAllLines(log) : [];
    }

    static string JobsLog(string script) => Path.ChangeExtension(script, ".jobs");
}
