using System.Text.Json;
using System.Text.Json.Nodes;

namespace ServerlessTune.Core.Modeling;

/// <summary>Typed reads of config.json keys; every failure names the file and the key.</summary>
internal sealed class ConfigKeys(JsonObject json, string source)
{
    UserInputException Bad(string key, string reason) => new($"{source}: key '{key}': {reason}");

    JsonValue? Value(string key)
    {
        var node = json[key];
        if (node is null) return null;
        return node as JsonValue ?? throw Bad(key, $"expected a single value, got {node.ToJsonString()}");
    }

    public string String(string key, string? fallback)
    {
        var value = Value(key);
        if (value is null)
            return fallback ?? throw Bad(key, "missing");
        return value.TryGetValue<string>(out var s) ? s : throw Bad(key, $"expected a string, got {value.ToJsonString()}");
    }

    public int? OptionalInt(string key)
    {
        var value = Value(key);
        if (value is null) return null;
        if (value.GetValueKind() == JsonValueKind.Number && value.TryGetValue<int>(out var i)) return i;
        if (value.GetValueKind() == JsonValueKind.Number && value.TryGetValue<double>(out var d) && d == Math.Floor(d) && Math.Abs(d) < int.MaxValue)
            return (int)d;
        throw Bad(key, $"expected an integer, got {value.ToJsonString()}");
    }

    public int? OptionalPositiveInt(string key)
    {
        var i = OptionalInt(key);
        return i is null or > 0 ? i : throw Bad(key, $"must be positive, got {i}");
    }

    public int PositiveInt(string key) => OptionalPositiveInt(key) ?? throw Bad(key, "missing");

    public double Double(string key, double fallback)
    {
        var value = Value(key);
        if (value is null) return fallback;
        return value.GetValueKind() == JsonValueKind.Number && value.TryGetValue<double>(out var d) && double.IsFinite(d)
            ? d
            : throw Bad(key, $"expected a number, got {value.ToJsonString()}");
    }

    public double Probability(string key, double fallback)
    {
        var p = Double(key, fallback);
        return p is >= 0 and < 1 ? p : throw Bad(key, $"a dropout probability must be in [0, 1), got {p}");
    }

    public bool Bool(string key, bool fallback)
    {
        var value = Value(key);
        if (value is null) return fallback;
        return value.TryGetValue<bool>(out var b) ? b : throw Bad(key, $"expected true or false, got {value.ToJsonString()}");
    }

    public int HeadDim(int hidden, int heads, string hiddenKey, string headsKey) =>
        hidden % heads == 0 ? hidden / heads : throw Bad(headsKey, $"{heads} does not divide {hiddenKey} {hidden}");

    /// <summary>eos_token_id is an int or a list of ints (Llama 3 instruct lists several).</summary>
    public int[] TokenIds(string key)
    {
        var node = json[key];
        if (node is null) return [];
        if (node is JsonArray array)
            return array.Select((item, i) => item is JsonValue v && v.TryGetValue<int>(out var id)
                ? id
                : throw Bad(key, $"item {i} is not an integer")).ToArray();
        return [OptionalInt(key)!.Value];
    }

    public RopeScaling? RopeScaling()
    {
        const string key = "rope_scaling";
        var node = json[key];
        if (node is null) return null;
        if (node is not JsonObject scaling)
            throw Bad(key, $"expected an object or null, got {node.ToJsonString()}");
        var inner = new ConfigKeys(scaling, source);
        var type = scaling.ContainsKey("rope_type") ? inner.String("rope_type", null) : inner.String("type", "default");
        double Factor(string name, double? fallback) =>
            scaling[name] is null && fallback is null ? throw Bad($"{key}.{name}", "missing") : inner.Double(name, fallback ?? 0);
        return type switch
        {
            "default" => null,
            "linear" => new RopeScaling(type, Factor("factor", null), 0, 0, 0),
            "llama3" => new RopeScaling(type, Factor("factor", null), Factor("low_freq_factor", null), Factor("high_freq_factor", null),
                inner.OptionalPositiveInt("original_max_position_embeddings") ?? throw Bad($"{key}.original_max_position_embeddings", "missing")),
            _ => throw Bad(key, $"rope type '{type}' is not supported (supported: default, linear, llama3)"),
        };
    }
}
