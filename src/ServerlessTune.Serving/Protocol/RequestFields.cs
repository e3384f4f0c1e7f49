using System.Text.Json;

namespace ServerlessTune.Serving.Protocol;

/// <summary>
/// Typed reads of a request object's fields. Absent and null fields are "not given" (OpenAI accepts null for
/// optional fields); unknown fields are ignored; a wrong type or range is a 400 naming the field's path.
/// </summary>
public readonly struct RequestFields(JsonElement obj, string path = "")
{
    JsonElement Element => obj;

    public static RequestFields Root(JsonElement root) =>
        root.ValueKind == JsonValueKind.Object ? new(root) : throw new ProtocolException(400, "the request body must be a JSON object");

    public string PathOf(string name) => path.Length == 0 ? name : $"{path}.{name}";

    public JsonElement? Get(string name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    public string? String(string name, int maxLength = int.MaxValue)
    {
        if (Get(name) is not { } v) return null;
        if (v.ValueKind != JsonValueKind.String) throw ProtocolException.BadType(PathOf(name), "a string");
        var s = v.GetString()!;
        return s.Length <= maxLength ? s : throw ProtocolException.BadValue(PathOf(name), $"longer than {maxLength} characters");
    }

    public string RequiredString(string name) =>
        String(name) ?? throw new ProtocolException(400, $"{PathOf(name)}: missing", PathOf(name), "missing_required_parameter");

    public bool? Bool(string name)
    {
        if (Get(name) is not { } v) return null;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw ProtocolException.BadType(PathOf(name), "true or false"),
        };
    }

    public double? Number(string name, double min, double max)
    {
        if (Get(name) is not { } v) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out var d) || !double.IsFinite(d))
            throw ProtocolException.BadType(PathOf(name), "a number");
        return d >= min && d <= max ? d : throw ProtocolException.BadValue(PathOf(name), $"{d} is outside [{min}, {max}]");
    }

    public long? Integer(string name, long min, long max)
    {
        if (Get(name) is not { } v) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out var i))
            throw ProtocolException.BadType(PathOf(name), "an integer");
        return i >= min && i <= max ? i : throw ProtocolException.BadValue(PathOf(name), $"{i} is outside [{min}, {max}]");
    }

    public RequestFields? Object(string name)
    {
        if (Get(name) is not { } v) return null;
        return v.ValueKind == JsonValueKind.Object ? new RequestFields(v, PathOf(name)) : throw ProtocolException.BadType(PathOf(name), "an object");
    }

    /// <summary>stop: a string or a list of up to <paramref name="max"/> non-empty strings.</summary>
    public IReadOnlyList<string> StopStrings(string name, int max)
    {
        if (Get(name) is not { } v) return [];
        if (v.ValueKind == JsonValueKind.String)
            return v.GetString() is { Length: > 0 } s ? [s] : throw ProtocolException.BadValue(PathOf(name), "an empty stop string");
        if (v.ValueKind != JsonValueKind.Array) throw ProtocolException.BadType(PathOf(name), "a string or an array of strings");
        if (v.GetArrayLength() > max) throw ProtocolException.BadValue(PathOf(name), $"at most {max} stop strings");
        var stops = new List<string>();
        int i = 0;
        foreach (var item in v.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String || item.GetString() is not { Length: > 0 } s)
                throw ProtocolException.BadValue($"{PathOf(name)}[{i}]", "expected a non-empty string");
            stops.Add(s);
            i++;
        }
        return stops;
    }

    /// <summary>metadata: up to 16 string values (as OpenAI bounds it).</summary>
    public IReadOnlyDictionary<string, string> Metadata(string name)
    {
        if (Object(name) is not { } meta) return new Dictionary<string, string>();
        var result = new Dictionary<string, string>();
        foreach (var property in meta.Element.EnumerateObject())
        {
            if (property.Value.ValueKind != JsonValueKind.String)
                throw ProtocolException.BadType($"{PathOf(name)}.{property.Name}", "a string");
            if (property.Name.Length > 64 || property.Value.GetString()!.Length > 512)
                throw ProtocolException.BadValue($"{PathOf(name)}.{property.Name}", "keys hold at most 64 characters and values 512");
            result[property.Name] = property.Value.GetString()!;
        }
        return result.Count <= 16 ? result : throw ProtocolException.BadValue(PathOf(name), "at most 16 pairs");
    }
}
