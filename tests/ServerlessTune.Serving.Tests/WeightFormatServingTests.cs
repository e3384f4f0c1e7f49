using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ServerlessTune.Core.Evaluation;
using ServerlessTune.Core.Generation;
using ServerlessTune.Core.Modeling;
using ServerlessTune.Core.Registry;
using ServerlessTune.Core.Storage;
using ServerlessTune.Core.Tests;

namespace ServerlessTune.Serving.Tests;

/// <summary>
/// The format a version was deployed with (deploy.format, recorded in the registry) is the format it is served
/// in: /v1/models and /health report it, and the answers are the converted model's; `--format` overrides it.
/// </summary>
public sealed class WeightFormatServingTests : IClassFixture<TinyChatModel>, IDisposable
{
    const string Project = "acme";
    const string Prompt = "How do I reset my router?";
    readonly TinyChatModel tiny;
    readonly TempDir root = new();
    readonly LocalFolderStore store;

    public WeightFormatServingTests(TinyChatModel tiny)
    {
        this.tiny = tiny;
        store = new LocalFolderStore(root.File("store"));
    }

    public void Dispose() => root.Dispose();

    async Task DeployAsync(WeightFormat format)
    {
        // A run that trained every weight registers its complete checkpoint.
        await store.UploadFolderAsync(tiny.Folder, "runs/run-1/merged");
        var registry = new ModelRegistry(store);
        var version = await registry.RegisterAsync(new ModelVersion
        {
            Project = Project, Version = "20261201-100000-run-1", RunId = "run-1", BaseModel = "models/tiny",
            Adapter = "runs/run-1/merged", Format = format, DatasetVersion = "sha256:1",
            Gate = new GateResult(GateMode.Enforce, true, []), CreatedUtc = DateTimeOffset.UtcNow,
        });
        await registry.PromoteAsync(Project, ModelRegistry.Production, version.Version);
    }

    /// <summary>The greedy continuation the model gives in <paramref name="format"/>, computed in-process.</summary>
    string Greedy(WeightFormat format)
    {
        using var chat = ChatModel.Load(tiny.Folder, format: format);
        var ids = chat.Tokenizer.EncodePlain(Prompt);
        return chat.Generator.Generate([ids], new GenerationOptions { MaxNewTokens = 12 })[0].Text;
    }

    static async Task<(string? Format, string? HealthFormat, string Text)> AskAsync(TestServer server)
    {
        var models = await server.Http.GetFromJsonAsync<JsonObject>("/v1/models");
        var card = models!["data"]!.AsArray().Single(m => (string)m!["id"]! == Project)!;
        var health = await server.Http.GetFromJsonAsync<JsonObject>("/health");
        var served = health!["models"]!.AsArray().Single(m => (string)m!["name"]! == Project)!;
        var answer = await server.OkAsync("/v1/completions", new { model = Project, prompt = Prompt, max_tokens = 12, temperature = 0 });
        return ((string?)card["format"], (string?)served["format"], (string)answer["choices"]![0]!["text"]!);
    }

    [Theory]
    [InlineData(WeightFormat.Int8)]
    [InlineData(WeightFormat.Bf16)]
    public async Task A_version_deployed_in_a_format_is_served_in_it(WeightFormat format)
    {
        await DeployAsync(format);
        await using var server = await TestServer.StartAsync(TestServer.Options() with { Project = Project }, store);

        var (cardFormat, healthFormat, text) = await AskAsync(server);

        Assert.Equal(format.Name(), cardFormat);
        Assert.Equal(format.Name(), healthFormat);
        Assert.Equal(Greedy(format), text);
    }

    [Fact]
    public async Task The_format_flag_overrides_the_deployed_format()
    {
        await DeployAsync(WeightFormat.Int8);
        await using var server = await TestServer.StartAsync(TestServer.Options() with { Project = Project, Format = WeightFormat.Fp32 }, store);

        var (cardFormat, healthFormat, text) = await AskAsync(server);

        Assert.Equal("fp32", cardFormat);
        Assert.Equal("fp32", healthFormat);
        Assert.Equal(Greedy(WeightFormat.Fp32), text);
    }
}
