namespace ServerlessTune.Core.Data.Mapping;

/// <summary>Where a file's field names come from: JSON keys, a table's header row, or positions in a table without one.</summary>
public enum FieldLayout { Json, Header, Positional }

/// <summary>
/// Decides a file's <see cref="RecordMapping"/> from its field names and its first records. A field that holds one
/// value in every sampled record is never the question (nor the input appended to it): a constant "context" column
/// beside "instruction" once became the question of 4,512 records. When two fields fit a side equally the run is
/// refused with a message naming them and the pipeline.json key and flag that decide; guessing would train on the
/// wrong column without a word. When no field fits a side, the file's records are rejected saying so.
/// </summary>
public static class FieldMapper
{
    const string Flags = "pipeline.json prepare.columns.{0} (stune prepare --{0}-column)";

    /// <param name="source">Names the file in errors.</param>
    /// <param name="layout">JSON records, a table with a header, or a table whose first row named nothing (columns are
    /// 1-based positions, the defaults 1 and 2).</param>
    public static RecordMapping Decide(string source, FieldSample sample, PrepareOptions options, FieldLayout layout = FieldLayout.Json)
    {
        bool positional = layout == FieldLayout.Positional;
        var roleNames = options.RoleNames();
        var names = sample.Names;
        var choice = options.Columns;
        string decided = choice.IsEmpty ? "by name" : "by pipeline.json prepare.columns / --*-column flags";

        // A list of turns is read as messages whatever prepare.columns says: the columns are for tables and pairs.
        if (!positional && Lists(sample, names) is { } lists)
        {
            var (roleKey, contentKey, seen) = sample.Turns(lists[0]);
            return new RecordMapping
            {
                Kind = MappingKind.Messages, Lists = lists, RoleKey = roleKey ?? "role", ContentKey = contentKey ?? "content",
                Roles = seen.GroupBy(Shown).ToDictionary(g => g.Key, g => roleNames.GetValueOrDefault(g.First().ToLowerInvariant(), "unrecognized")),
                RoleNames = roleNames, Ignored = [.. names.Except(lists).Select(Shown)], SampledRecords = sample.Records,
            };
        }

        var roles = names.Select(n => positional ? null : FieldNames.Classify(n)).ToList();
        var constant = names.Where(sample.IsConstant).ToList();
        bool Usable(int i) => !sample.IsConstant(names[i]) && !sample.IsList(names[i]);
        List<int> Having(FieldRole role, bool usableOnly = true) =>
            [.. Enumerable.Range(0, names.Count).Where(i => roles[i] == role && (!usableOnly || Usable(i)))];

        int assistant = choice.Assistant is { } a ? Resolve(source, names, a, "assistant")
            : One(source, names, "assistant", Having(FieldRole.Assistant, usableOnly: false), Having(FieldRole.WeakAssistant, usableOnly: false));
        int user = choice.User is { } u ? Resolve(source, names, u, "user")
            : One(source, names, "user", Having(FieldRole.User), Having(FieldRole.Input), Having(FieldRole.WeakUser), assistant < 0 ? [] : Having(FieldRole.Text));

        if (positional)
        {
            if (choice.User is null) user = assistant == 0 ? 1 : 0;
            if (choice.Assistant is null) assistant = user == 1 ? 0 : 1;
            if (choice.IsEmpty) decided = "no header row: columns 1 and 2";
        }
        else if (user < 0 && assistant < 0 && choice.IsEmpty && layout == FieldLayout.Json)
        {
            var text = Having(FieldRole.Text);
            if (text.Count == 1)
                return new RecordMapping
                {
                    Kind = MappingKind.Text, Text = names[text[0]], Ignored = [.. names.Where((_, i) => i != text[0]).Select(Shown)],
                    Constant = [.. constant.Select(Shown)], SampledRecords = sample.Records,
                };
            // Nothing in the first records names a field: read them as OpenAI chat records, each rejected with its reason.
            return RecordMapping.OpenAiMessages(roleNames, sample.Records, "no recognised field in the first records: read as OpenAI chat");
        }
        // A side nothing names is no reason to stop the run: every record is rejected with the explanation, and counted.
        string? unmapped = null;
        if (user < 0)
        {
            var named = Enumerable.Range(0, names.Count).Where(i => roles[i] is FieldRole.User or FieldRole.Input or FieldRole.Context or FieldRole.WeakUser && !Usable(i)).ToList();
            unmapped = named.Count > 0
                ? $"{Quote(names, named)} {(named.Count == 1 ? "holds" : "hold")} the same value in all {sample.Records} records looked at, so {(named.Count == 1 ? "it is" : "they are")} not taken as the question; name the user column with {string.Format(Flags, "user")}"
                : $"no column for the user side among {List(names)}; name it with {string.Format(Flags, "user")}";
        }
        else if (assistant < 0)
            unmapped = $"no column for the assistant side among {List(names)}; name it with {string.Format(Flags, "assistant")}";
        if (unmapped is not null)
            return new RecordMapping
            {
                Kind = MappingKind.Columns, User = user < 0 ? null : names[user], Assistant = assistant < 0 ? null : names[assistant],
                Unmapped = unmapped, Constant = [.. constant.Select(Shown)], SampledRecords = sample.Records, Decided = decided,
            };
        if (user == assistant)
            throw new UserInputException($"{source}: '{names[user]}' is chosen for both the user and the assistant side");

        // Alpaca's input and Dolly's context join an instruction; "input" alone was the question itself.
        int input = choice.Input is { } n ? Resolve(source, names, n, "input")
            : roles[user] is FieldRole.User ? One(source, names, "input", [.. Having(FieldRole.Input).Concat(Having(FieldRole.Context)).Where(i => i != user && i != assistant).Order()])
            : -1;
        int system = choice.System is { } s ? Resolve(source, names, s, "system") : One(source, names, "system", Having(FieldRole.System, usableOnly: false));
        var used = new[] { user, input, assistant, system }.Where(i => i >= 0).ToHashSet();
        var metadata = Enumerable.Range(0, names.Count).Where(i => !used.Contains(i) && roles[i] is FieldRole.Id or FieldRole.Category).ToList();
        used.UnionWith(metadata);
        string? Name(int i) => i < 0 ? null : names[i];
        return new RecordMapping
        {
            Kind = MappingKind.Columns, User = Name(user), Input = Name(input), Assistant = Name(assistant), System = Name(system),
            Metadata = [.. metadata.Select(i => names[i])], Ignored = [.. names.Where((_, i) => !used.Contains(i)).Select(Shown)],
            Constant = [.. constant.Select(Shown)], SampledRecords = sample.Records, Decided = decided, RoleNames = roleNames,
        };
    }

    /// <summary>A name read from the file, as stats.json and stderr show it: a key or role name can be a pasted secret.</summary>
    static string Shown(string name) => Redaction.Redactor.Redact(name).Text;

    /// <summary>The list keys holding turns: a messages-like list, or TRL's conversational prompt and completion lists.</summary>
    static IReadOnlyList<string>? Lists(FieldSample sample, IReadOnlyList<string> names)
    {
        if (sample.IsList("prompt") && sample.IsList("completion")) return ["prompt", "completion"];
        foreach (var list in FieldNames.MessageLists)
            if (names.Contains(list) && sample.IsList(list)) return [list];
        return null;
    }

    /// <summary>The single candidate of the first non-empty tier, -1 if all are empty; two in one tier is ambiguous.</summary>
    static int One(string source, IReadOnlyList<string> names, string side, params List<int>[] tiers)
    {
        foreach (var tier in tiers)
        {
            if (tier.Count == 1) return tier[0];
            if (tier.Count > 1)
                throw new UserInputException($"{source}: {Quote(names, tier)} could each be the {side} side; choose one with {string.Format(Flags, side)}");
        }
        return -1;
    }

    /// <summary>A configured column: its name (without case or punctuation) or its 1-based position.</summary>
    static int Resolve(string source, IReadOnlyList<string> names, string column, string side)
    {
        string simple = FieldNames.Simplify(column);
        for (int i = 0; i < names.Count; i++)
            if (FieldNames.Simplify(names[i]) == simple) return i;
        if (int.TryParse(column, out int position) && position >= 1 && position <= names.Count) return position - 1;
        throw new UserInputException($"{source}: prepare.columns.{side} '{column}' is not a column of the file ({List(names)})");
    }

    static string Quote(IReadOnlyList<string> names, IEnumerable<int> indexes) => string.Join(" and ", indexes.Select(i => $"'{Shown(names[i])}'"));

    static string List(IReadOnlyList<string> names) => names.Count == 0 ? "(none)" : string.Join(", ", names.Take(16).Select(Shown)) + (names.Count > 16 ? ", ..." : "");
}
