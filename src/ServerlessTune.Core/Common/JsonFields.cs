using System.Text.Json;

namespace ServerlessTune.Core.Common;

/// <summary>Typed access to the keys of a JSON object, failing with "where: key: reason".</summary>
public static class JsonFields
{
    public static void RequireObject(JsonElement value, string where)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new UserInputException($"{where}: expected a JSON object, got {Describe(value)}");
    }

    /// <summary>Rejects keys outside <paramref name="allowed"/>, so a misspelt key is an error instead of being ignored.</summary>
    public static void RejectUnknownKeys(JsonElement value, string where, params string[] allowed)
    {
        foreach (var property in value.EnumerateObject())
            if (!allowed.Contains(property.Name, StringComparer.Ordinal))
                throw new UserInputException($"{where}: {property.Name}: unknown key (expected one of: {string.Join(", ", allowed)})");
    }

    public static string RequiredString(JsonElement value, string key, string where) =>
        OptionalString(value, key, where) ?? throw new UserInputException($"{where}: {key}: missing");

    public static string? OptionalString(JsonElement value, string key, string where)
    {
        if (!value.TryGetProperty(key, out var property) || property.ValueKind == JsonValueKind.Null)
            return null;
        if (property.ValueKind != JsonValueKind.String)
            throw new UserInputException($"{where}: {key}: expected a string, got {Describe(property)}");
        return property.GetString()!;
    }

    public static double? OptionalNumber(JsonElement value, string key, string where)
    {
        if (!value.TryGetProperty(key, out var property) || property.ValueKind == JsonValueKind.Null)
            return null;
        if (property.ValueKind != JsonValueKind.Number || !double.IsFinite(property.GetDouble()))
            throw new UserInputException($"{where}: {key}: expected a finite number, got {Describe(property)}");
        return property.GetDouble();
    }

    public static bool? OptionalBoolean(JsonElement value, string key, string where)
    {
        if (!value.TryGetProperty(key, out var property) || property.ValueKind == JsonValueKind.Null)
            return null;
        if (property.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            throw new UserInputException($"{where}: {key}: expected true or false, got {Describe(property)}");
        return property.GetBoolean();
    }

    /// <summary>An array of strings; a single string is accepted as a one-element array.</summary>
    public static IReadOnlyList<string>? OptionalStrings(JsonElement value, string key, string where)
    {
        if (!value.TryGetProperty(key, out var property) || property.ValueKind == JsonValueKind.Null)
            return null;
        if (property.ValueKind == JsonValueKind.String)
            return [property.GetString()!];
        if (property.ValueKind != JsonValueKind.Array)
            throw new UserInputException($"{where}: {key}: expected an array of strings, got {Describe(property)}");
        var items = new List<string>();
        var index = 0;
        foreach (var item in property.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String)
                throw new UserInputException($"{where}: {key}[{index}]: expected a string, got {Describe(item)}");
            items.Add(item.GetString()!);
            index++;
        }
        return items;
    }

    public static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => $"the number {value.GetRawText()}",
        JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
        _ => "null",
    };
}
