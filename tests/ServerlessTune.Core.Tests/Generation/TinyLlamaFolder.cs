using ServerlessTune.Core.Modeling;

namespace ServerlessTune.Core.Tests.Generation;

/// <summary>A random llama tiny checkpoint folder, written the way `stune model init` writes one.</summary>
public sealed class TinyLlamaFolder : IDisposable
{
    readonly DirectoryInfo root = Directory.CreateTempSubdirectory("gen-tests-");

    public TinyLlamaFolder()
    {
        ModelInitializer.Run("llama", "tiny", Model, seed: 3);
    }

    public string Model => Path.Combine(root.FullName, "model");

    public string NewFolder(string name) => Path.Combine(root.FullName, name);

    public void Dispose() => root.Delete(recursive: true);
}
