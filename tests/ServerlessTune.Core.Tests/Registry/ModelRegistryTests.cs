using ServerlessTune.Core;
using ServerlessTune.Core.Evaluation;
using ServerlessTune.Core.Registry;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Core.Tests.Registry;

public sealed class ModelRegistryTests : IDisposable
{
    readonly string _root = Directory.CreateTempSubdirectory("stune-registry-").FullName;
    readonly LocalFolderStore _store;
    readonly ModelRegistry _registry;

    public ModelRegistryTests()
    {
        _store = new LocalFolderStore(_root);
        _registry = new ModelRegistry(_store);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    static ModelVersion Version(string runId, DateTimeOffset started) => new()
    {
        Project = "acme",
        Version = ModelRegistry.VersionFor(started, runId),
        RunId = runId,
        BaseModel = "models/tiny-llama",
        Adapter = $"runs/{runId}/adapter",
        DatasetVersion = "sha256:ab12",
        Metrics = new Dictionary<string, double> { ["perplexity"] = 3.5, ["exact_match"] = 0.4 },
        Gate = new GateResult(GateMode.Enforce, true, []),
        CreatedUtc = started,
    };

    [Fact]
    public void Version_names_sort_by_start_time_and_are_stable_per_run()
    {
        var t = new DateTimeOffset(2026, 11, 24, 9, 30, 5, TimeSpan.Zero);
        string a = ModelRegistry.VersionFor(t, "run-a");
        Assert.Equal(a, ModelRegistry.VersionFor(t, "run-a"));
        Assert.StartsWith("20261124-093005-", a);
        Assert.Equal(24, a.Length);
        Assert.NotEqual(a, ModelRegistry.VersionFor(t, "run-b"));
        Assert.True(string.CompareOrdinal(a, ModelRegistry.VersionFor(t.AddSeconds(1), "run-0")) < 0);
    }

    [Fact]
    public async Task Registering_twice_from_the_same_run_keeps_one_version()
    {
        var v = Version("run-1", new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));
        await _registry.RegisterAsync(v);
        var again = await _registry.RegisterAsync(v with { CreatedUtc = v.CreatedUtc.AddMinutes(5) });

        Assert.Equal(v.CreatedUtc, again.CreatedUtc);
        var listed = await _registry.ListAsync("acme");
        var only = Assert.Single(listed);
        Assert.Equal(3.5, only.Metrics["perplexity"]);
        Assert.Equal("runs/run-1/adapter", only.Adapter);
        Assert.True(await _store.ExistsAsync($"registry/acme/versions/{v.Version}/model.json"));
    }

    [Fact]
    public async Task A_version_name_taken_by_another_run_is_refused()
    {
        var v = Version("run-1", DateTimeOffset.UnixEpoch);
        await _registry.RegisterAsync(v);
        var error = await Assert.ThrowsAsync<UserInputException>(() => _registry.RegisterAsync(v with { RunId = "run-2" }));
        Assert.Contains("already belongs to run run-1", error.Message);
    }

    [Fact]
    public async Task Aliases_point_at_registered_versions_and_resolve()
    {
        var first = await _registry.RegisterAsync(Version("run-1", DateTimeOffset.UnixEpoch));
        var second = await _registry.RegisterAsync(Version("run-2", DateTimeOffset.UnixEpoch.AddDays(1)));
        await _registry.SetAliasAsync("acme", ModelRegistry.Production, first.Version);
        await _registry.SetAliasAsync("acme", ModelRegistry.Staging, second.Version);
        await _registry.SetAliasAsync("acme", ModelRegistry.Staging, second.Version);

        var aliases = await _registry.GetAliasesAsync("acme");
        Assert.Equal(first.Version, aliases["production"]);
        Assert.Equal(second.Version, aliases["staging"]);
        Assert.Equal("run-1", (await _registry.ResolveAsync("acme", "production"))!.RunId);
        Assert.Equal("run-2", (await _registry.ResolveAsync("acme", second.Version))!.RunId);
        Assert.Null(await _registry.ResolveAsync("acme", "nope"));
        Assert.Equal(new[] { "run-1", "run-2" }, (await _registry.ListAsync("acme")).Select(v => v.RunId));
    }

    [Fact]
    public async Task Unknown_aliases_unregistered_versions_and_unsafe_names_are_user_errors()
    {
        var v = await _registry.RegisterAsync(Version("run-1", DateTimeOffset.UnixEpoch));
        Assert.Contains("unknown alias 'latest'", (await Assert.ThrowsAsync<UserInputException>(() => _registry.SetAliasAsync("acme", "latest", v.Version))).Message);
        Assert.Contains("not registered", (await Assert.ThrowsAsync<UserInputException>(() => _registry.SetAliasAsync("acme", "production", "19990101-000000-00000000"))).Message);
        await Assert.ThrowsAsync<UserInputException>(() => _registry.GetAliasesAsync("../acme"));
        await Assert.ThrowsAsync<UserInputException>(() => _registry.GetAsync("acme", "../../x"));
        Assert.Empty(await _registry.GetAliasesAsync("other"));
    }

    [Fact]
    public async Task A_corrupt_aliases_file_is_reported_with_its_path()
    {
        await _store.WriteAllTextAsync("registry/acme/aliases.json", "[1,2");
        var error = await Assert.ThrowsAsync<UserInputException>(() => _registry.GetAliasesAsync("acme"));
        Assert.StartsWith("registry/acme/aliases.json:", error.Message);
    }
}
