using ServerlessTune.Core;
using ServerlessTune.Core.Modeling;
using ServerlessTune.Core.Storage;
using ServerlessTune.Workflow.Steps;

namespace ServerlessTune.Workflow.Tests.Steps;

public sealed class ResolveBaseModelStepTests : IDisposable
{
    readonly string _scratch = Directory.CreateTempSubdirectory("stune-base-").FullName;
    readonly LocalFolderStore _store;
    readonly ResolveBaseModelStep _step;

    public ResolveBaseModelStepTests()
    {
        _store = new LocalFolderStore(Path.Combine(_scratch, "store"));
        _step = new ResolveBaseModelStep(_store, new HttpClient());
    }

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    [Fact]
    public async Task An_init_spec_makes_the_model_once_and_it_loads()
    {
        string prefix = await _step.ResolveAsync("init:gpt2-tiny-seed7");
        Assert.Equal("models/init/gpt2-tiny-seed7", prefix);
        string weights = Path.Combine(_store.Location, prefix, "model.safetensors");
        var written = File.GetLastWriteTimeUtc(weights);

        Assert.Equal(prefix, await _step.ResolveAsync("init:gpt2-tiny-seed7"));
        Assert.Equal(written, File.GetLastWriteTimeUtc(weights)); // not made again
        using var model = Checkpoint.Load(Path.Combine(_store.Location, prefix));
        Assert.Equal("gpt2", model.Config.ModelType);
    }

    [Fact]
    public async Task A_local_folder_is_copied_under_a_name_that_changes_with_its_content()
    {
        string folder = Path.Combine(_scratch, "my-base");
        ModelInitializer.Run("llama", "tiny", folder, seed: 1);
        string first = await _step.ResolveAsync(folder);
        Assert.StartsWith("models/local/my-base-", first);
        Assert.Equal(File.ReadAllBytes(Path.Combine(folder, "model.safetensors")),
            File.ReadAllBytes(Path.Combine(_store.Location, first, "model.safetensors")));
        Assert.Equal(first, await _step.ResolveAsync(folder));

        File.AppendAllText(Path.Combine(folder, "generation_config.json"), " ");
        Assert.NotEqual(first, await _step.ResolveAsync(folder));
    }

    [Fact]
    public async Task A_store_folder_with_a_config_is_used_as_it_is()
    {
        await _store.WriteAllTextAsync("models/mine/config.json", "{}");
        Assert.Equal("models/mine", await _step.ResolveAsync("models/mine/"));
    }

    [Theory]
    [InlineData("init:bert-tiny")]
    [InlineData("no such thing at all")]
    [InlineData("")]
    public async Task Anything_else_is_refused_naming_the_accepted_forms(string spec)
    {
        var error = await Assert.ThrowsAsync<UserInputException>(() => _step.ResolveAsync(spec));
        Assert.StartsWith("base_model", error.Message);
    }

    [Fact]
    public async Task A_local_folder_without_config_is_refused()
    {
        string folder = Directory.CreateDirectory(Path.Combine(_scratch, "empty")).FullName;
        var error = await Assert.ThrowsAsync<UserInputException>(() => _step.ResolveAsync(folder));
        Assert.Equal($"base_model '{folder}': the folder has no config.json", error.Message);
    }
}
