using ServerlessTune.Workflow.Jobs;

namespace ServerlessTune.Workflow.Tests.Orchestration;

/// <summary>
/// TEST-ONLY job programs: small shell scripts run as real child processes by the real LocalProcessJobLauncher
/// (called as: script {spec} --store {store}), standing in for stune-trainer. A training job runs the given
/// script; an evaluation job copies the outputs of a <see cref="ScriptedEvaluation"/> to where the real one writes
/// them (runs/{id}/eval/{family}.json). Every job a script ran is one line of <see cref="JobsRun"/>.
/// </summary>
public static class ScriptTrainer
{
    /// <summary>Writes two metrics lines and an adapter config into the run folder, then exits 0.</summary>
    public const string Succeeds = """
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

    /// <param name="evaluation">What the evaluation job writes; by default a candidate that beats its base.</param>
    public static LocalTrainerCommand Write(string directory, string trainScript, ScriptedEvaluation? evaluation = null)
    {
        string id = Guid.NewGuid().ToString("N");
        string outputs = Directory.CreateDirectory(Path.Combine(directory, $"eval-{id}")).FullName;
        foreach (var (family, json) in (evaluation ?? new ScriptedEvaluation(2.0)).Files())
            File.WriteAllText(Path.Combine(outputs, $"{family}.json"), json);
        string path = Path.Combine(directory, $"trainer-{id}.sh");
        File.WriteAllText(path, $$"""
            set -e
            job="$(basename "$(dirname "$1")")"
            run="$3/$(dirname "$(dirname "$(dirname "$1")")")"
            echo "$job" >> "{{JobsLog(path)}}"
            if [ "$job" = evaluate ]; then
              mkdir -p "$run/eval"
              cp "{{outputs}}"/*.json "$run/eval/"
              exit 0
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
