namespace ServerlessTune.Core.Storage;

/// <summary>
/// Validates artifact paths before they reach a store. Paths come from users (blob names, project
/// names, dataset file names), so anything that could leave the store's root or its container is refused:
/// absolute paths, "..", "." and empty segments, backslashes, control characters, over-long names.
/// </summary>
public static class ArtifactPath
{
    /// <summary>Azure's blob-name limit; local folders are held to the same so both stores accept the same names.</summary>
    public const int MaxLength = 1024;
    const int MaxSegmentLength = 255;

    /// <summary>Returns the path unchanged if it is safe, else throws UserInputException with the reason.</summary>
    public static string Validate(string path)
    {
        string? reason = Problem(path);
        if (reason is not null)
            throw new UserInputException($"invalid artifact path '{Printable(path)}': {reason}");
        return path;
    }

    /// <summary>A project (or other single-segment) name: one path segment of letters, digits, '-', '_' and '.'.</summary>
    public static string ValidateName(string name, string what)
    {
        if (!IsValidName(name))
            throw new UserInputException($"invalid {what} '{Printable(name)}': use 1-63 letters, digits, '-', '_' or '.'");
        return name;
    }

    /// <summary>Joins validated segments with '/'.</summary>
    public static string Combine(params string[] parts) => Validate(string.Join('/', parts.Select(p => p.Trim('/'))));

    public static bool IsValid(string path) => Problem(path) is null;

    /// <summary>Whether a name can be one path segment (a project, run id, version...).</summary>
    public static bool IsValidName(string name) =>
        !string.IsNullOrEmpty(name) && name.Length <= 63 && name is not ("." or "..")
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    static string? Problem(string path)
    {
        if (string.IsNullOrEmpty(path)) return "empty";
        if (path.Length > MaxLength) return $"longer than {MaxLength} characters";
        if (path[0] == '/') return "absolute paths are not allowed";
        if (path.Contains('\\')) return "backslashes are not allowed";
        foreach (char c in path)
            if (char.IsControl(c)) return "control characters are not allowed";
        if (path.Length >= 2 && path[1] == ':') return "drive letters are not allowed";
        foreach (var segment in path.Split('/'))
        {
            if (segment.Length == 0) return "empty path segment";
            if (segment is "." or "..") return "'.' and '..' segments are not allowed";
            if (segment.Length > MaxSegmentLength) return $"a segment is longer than {MaxSegmentLength} characters";
            if (segment.EndsWith('.') || segment.EndsWith(' ')) return "a segment ends with '.' or a space";
        }
        return null;
    }

    static string Printable(string s)
    {
        var shown = new string(s.Take(120).Select(c => char.IsControl(c) ? '?' : c).ToArray());
        return s.Length > 120 ? shown + "..." : shown;
    }
}
