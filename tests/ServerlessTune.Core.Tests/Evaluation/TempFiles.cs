namespace ServerlessTune.Core.Tests.Evaluation;

/// <summary>A fresh folder per test for input files; deleted afterwards.</summary>
public sealed class TempFiles : IDisposable
{
    public string Folder { get; } = Directory.CreateTempSubdirectory("stune-eval-").FullName;

    public string Write(string name, string content)
    {
        var path = Path.Combine(Folder, name);
        File.WriteAllText(path, content);
        return path;
    }

    public void Dispose() => Directory.Delete(Folder, recursive: true);
}
