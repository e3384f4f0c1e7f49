using ServerlessTune.Core.Modeling;
using ServerlessTune.Core.Tests;

namespace ServerlessTune.Serving.Tests;

/// <summary>A random llama tiny checkpoint with a ChatML tokenizer, written as `stune model init` writes one; shared by a test class.</summary>
public sealed class TinyChatModel : IDisposable
{
    readonly TempDir root = new();

    public TinyChatModel()
    {
        ModelInitializer.Run("llama", "tiny", Folder, seed: 11);
    }

    /// <summary>The folder, named "tiny" (the model name clients send).</summary>
    public string Folder => root.File("tiny");

    public void Dispose() => root.Dispose();
}

/// <summary>The tiny model behind one server a test class shares (the defaults, context 256).</summary>
public sealed class TinyServer : IAsyncLifetime
{
    public TinyChatModel Model { get; } = new();
    public TestServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await TestServer.ForFolderAsync(Model.Folder, s => s with { MaxContext = 256 });

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        Model.Dispose();
    }
}
