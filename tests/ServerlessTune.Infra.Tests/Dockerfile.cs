using System.Text.Json;

namespace ServerlessTune.Infra.Tests;

/// <summary>A Dockerfile's instructions (continuation lines joined, comments dropped), grouped by build stage.</summary>
public sealed record Dockerfile(IReadOnlyList<Dockerfile.Stage> Stages)
{
    public sealed record Instruction(int Line, string Keyword, string Arguments)
    {
        /// <summary>The exec (JSON array) form of ENTRYPOINT, CMD, RUN; null for the shell form.</summary>
        public string[]? ExecForm() => Arguments.StartsWith('[') ? JsonSerializer.Deserialize<string[]>(Arguments) : null;

        public string[] Words() => Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
    }

    public sealed record Stage(string Image, string? Name, IReadOnlyList<Instruction> Instructions)
    {
        public IEnumerable<Instruction> All(string keyword) => Instructions.Where(i => i.Keyword == keyword);
    }

    public Stage Final => Stages[^1];

    /// <summary>The stage a build for <paramref name="target"/> produces (the last one without a target).</summary>
    public Stage Target(string? target) => target is null ? Final : Stages.Single(s => s.Name == target);

    /// <summary>A stage's instructions after those of the stages it is built FROM, in the order they apply.</summary>
    public IReadOnlyList<Instruction> Effective(Stage stage) =>
        Stages.SingleOrDefault(s => s.Name == stage.Image) is { } parent ? [.. Effective(parent), .. stage.Instructions] : stage.Instructions;

    public static Dockerfile Parse(string text)
    {
        var instructions = new List<Instruction>();
        string? pending = null;
        int start = 0;
        var lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (pending is null && (line.Length == 0 || line.StartsWith('#'))) continue;
            if (pending is not null && line.StartsWith('#')) continue;
            if (pending is null) start = i + 1;
            bool continues = line.EndsWith('\\');
            pending = (pending is null ? "" : pending + " ") + (continues ? line[..^1].Trim() : line);
            if (continues) continue;
            int space = pending.IndexOf(' ');
            instructions.Add(space < 0
                ? new Instruction(start, pending.ToUpperInvariant(), "")
                : new Instruction(start, pending[..space].ToUpperInvariant(), pending[(space + 1)..].Trim()));
            pending = null;
        }

        var stages = new List<Stage>();
        foreach (var instruction in instructions)
        {
            if (instruction.Keyword == "FROM")
            {
                var words = instruction.Words().Where(w => !w.StartsWith("--")).ToArray();
                string? name = words.Length == 3 && words[1].Equals("AS", StringComparison.OrdinalIgnoreCase) ? words[2] : null;
                stages.Add(new Stage(words[0], name, new List<Instruction>()));
            }
            else if (stages.Count == 0) throw new FormatException($"line {instruction.Line}: {instruction.Keyword} before the first FROM");
            else ((List<Instruction>)stages[^1].Instructions).Add(instruction);
        }
        return new Dockerfile(stages);
    }
}
