namespace ServerlessTune.Core.Modeling;

/// <summary>How a served model's weights are held in memory for inference. Training always runs on fp32.</summary>
public enum WeightFormat
{
    Fp32,
    Bf16,
    Int8,
}

/// <summary>The one spelling of a <see cref="WeightFormat"/> in configs, the registry, flags and /v1/models.</summary>
public static class WeightFormats
{
    static readonly string[] names = ["fp32", "bf16", "int8"];

    public static IReadOnlyList<string> Names => names;

    public static string Name(this WeightFormat format) => names[(int)format];

    public static bool TryParse(string? text, out WeightFormat format)
    {
        var index = text is null ? -1 : Array.IndexOf(names, text.Trim().ToLowerInvariant());
        format = index < 0 ? WeightFormat.Fp32 : (WeightFormat)index;
        return index >= 0;
    }
}
