using ServerlessTune.Core.Evaluation;
using ServerlessTune.Core.Modeling;
using ServerlessTune.Core.Registry;
using ServerlessTune.Core.Storage;
using ServerlessTune.Workflow.Tests.Orchestration;
using ServerlessTune.Workflow.Steps;

namespace ServerlessTune.Workflow.Tests.Steps;

/// <summary>deploy.format travels to the registry version serving reads it from.</summary>
public sealed class DeployStepFormatTests : IDisposable
{
    readonly PipelineHarness _harness = new();
    readonly LocalFolderStore _store;

    public DeployStepFormatTests() => _store = new LocalFolderStore(Path.Combine(_harness.Scratch, "store"));

    public void Dispose() => _harness.Dispose();

    [Theory]
    [InlineData(WeightFormat.Fp32, "\"format\": \"fp32\"")]
    [InlineData(WeightFormat.Int8, "\"format\": \"int8\"")]
    [InlineData(WeightFormat.Bf16, "\"format\": \"bf16\"")]
    public async Task The_registered_version_records_the_format_it_is_served_in(WeightFormat format, string json)
    {
        await ScriptTrainer.WriteAdapterAsync(_store, "run-1");
        var input = new DeployInput("acme", "run-1", new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero), "models/base",
            "sha256:1", new Dictionary<string, double>(), new GateResult(GateMode.Enforce, true, []), "production", "chatml", format);

        var deployment = await new DeployStep(_store, new ModelRegistry(_store)).RunAsync(input);

        var registered = Assert.Single(await new ModelRegistry(_store).ListAsync("acme"));
        Assert.Equal(format, registered.Format);
        Assert.Contains(json, await _store.ReadAllTextAsync(ArtifactLayout.Registry("acme").Version(deployment.Version)));
    }
}
