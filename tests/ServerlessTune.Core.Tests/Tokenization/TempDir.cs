namespace ServerlessTune.Core.Tests.Tokenization;

internal sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("stune-tok-").FullName;
    public void Dispose() => Directory.Delete(Path, recursive: true);
}
