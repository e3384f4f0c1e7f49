using ServerlessTune.Pipeline.Training;

namespace ServerlessTune.Pipeline.Tests.Orchestration;

/// <summary>
/// TEST-ONLY trainer programs: small shell scripts run as real child processes by the real
/// LocalProcessJobLauncher (called as: script {spec} --store {store}), standing in for stune-trainer.
/// </summary>
public static class ScriptTrainer
{
    /// <summary>Writes two metrics lines and an adapter config next to the spec, then exits 0.</summary>
    public const string Succeeds = """
        run="$3/$(dirname "$1")"
        mkdir -p "$run/adapter"
        printf '{"step":1,"loss":2.5}\n{"step":2,"loss":1.25}\n' > "$run/metrics.jsonl"
        echo '{"peft_type":"LORA"}' > "$run/adapter/adapter_config.json"
        """;

    /// <summary>Like <see cref="Succeeds"/>, but exits only once a file named "release" appears in the run folder.</summary>
    public const string SucceedsWhenReleased = Succeeds + """

        while [ ! -f "$run/release" ]; do sleep 0.05; done
        """;

    public const string Crashes = """
        echo "step 1/10 loss 2.5" >&2
        echo "error: training failed: out of memory at step 2" >&2
        exit 3
        """;

    public const string RunsForever = "sleep 600";

    public static LocalTrainerCommand Write(string directory, string script)
    {
        string path = Path.Combine(directory, $"trainer-{Guid.NewGuid():N}.sh");
        File.WriteAllText(path, "set -e\n" + script + "\n");
        return new LocalTrainerCommand("sh", [path, "{spec}", "--store", "{store}"]);
    }
}
