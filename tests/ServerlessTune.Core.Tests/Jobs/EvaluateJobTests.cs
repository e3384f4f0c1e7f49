using System.Text.Json.Nodes;
using ServerlessTune.Core.Evaluation;
using ServerlessTune.Core.Jobs;
using ServerlessTune.Core.PipelineConfig;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Core.Tests.Jobs;

/// <summary>The evaluation job's bookkeeping; the pipeline's end-to-end tests run it on real models.</summary>
public sealed class EvaluateJobTests : IDisposable
{
    readonly TempDir _dir = new();
    readonly LocalFolderStore _store;

    public EvaluateJobTests() => _store = new LocalFolderStore(_dir.Path);

    public void Dispose() => _dir.Dispose();

    static JobSpec Spec(params StoredModel[] models) => new()
    {
        Kind = JobKinds.Evaluate, RunId = "run1", Project = "acme", Data = "prepared/run1",
        Evaluation = new EvaluationSpec(models, new EvalOptions()),
    };

    [Fact]
    public async Task A_relaunched_job_measures_no_family_it_already_wrote()
    {
        foreach (var family in new EvalOptions().Families)
            await EvaluationOutputs.WriteAsync(_store, "run1", new FamilyResult(family, []));
        await _store.WriteAllTextAsync("spec.json", Spec(new StoredModel("base", "models/missing", null, "models/missing")).ToJson());
        var log = new List<string>();

        var status = await new JobRunner(_store, _dir.Path).RunAsync("spec.json", log.Add);

        Assert.Equal(JobStatus.Succeeded, status.Status);
        Assert.Equal("job run1: every family was measured already", Assert.Single(log));
        var written = JsonNode.Parse(await _store.ReadAllTextAsync("runs/run1/jobs/evaluate/status.json"))!;
        Assert.Equal("evaluate", (string)written["kind"]!);
    }

    [Fact]
    public async Task A_missing_family_output_is_named_by_the_reader()
    {
        await EvaluationOutputs.WriteAsync(_store, "run1", new FamilyResult(EvalOptions.LanguageModel, []));

        var error = await Assert.ThrowsAsync<ArtifactNotFoundException>(() =>
            EvaluationOutputs.ReadAsync(_store, "run1", [EvalOptions.LanguageModel, EvalOptions.QuestionAnswering]));

        Assert.StartsWith("runs/run1/eval/qa.json: not found", error.Message);
    }

    [Theory]
    [InlineData("{\"kind\":\"evaluate\",\"run_id\":\"r\",\"data\":\"d\",\"evaluation\":{\"models\":[],\"options\":{}}}", "project: missing")]
    [InlineData("{\"kind\":\"evaluate\",\"run_id\":\"r\",\"project\":\"p\",\"data\":\"d\",\"evaluation\":{\"models\":[],\"options\":{}}}", "evaluation.models: empty")]
    [InlineData("{\"kind\":\"evaluate\",\"run_id\":\"r\",\"project\":\"p\",\"data\":\"d\",\"evaluation\":{\"models\":[{\"name\":\"base\",\"model\":\"../x\",\"source\":\"x\"}],\"options\":{}}}",
        "evaluation.models[base].model '../x' is not a valid artifact path")]
    public void A_bad_evaluation_spec_names_the_key(string json, string message)
    {
        var error = Assert.Throws<UserInputException>(() => JobSpec.Parse(json, "spec.json"));
        Assert.Contains(message, error.Message);
    }
}
