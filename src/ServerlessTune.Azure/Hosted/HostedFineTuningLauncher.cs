using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text;
using System.Text.Json;
using OpenAI.Files;
using OpenAI.FineTuning;
using ServerlessTune.Core;
using ServerlessTune.Core.Hosted;
using ServerlessTune.Core.Jobs;
using ServerlessTune.Core.Storage;
using ServerlessTune.Core.Training;

namespace ServerlessTune.Azure.Hosted;

/// <summary>
/// A training job on the hosted fine-tuning API, polled by the orchestrator like the trainer's. Starting writes the
/// prepared splits as the API's JSONL (runs/{runId}/jobs/train/upload/), validates them before anything is uploaded,
/// uploads them, records each file id, then creates the job, unless the service already has one for that
/// training file (a worker died between the create and its record): creation is idempotent per run. Each poll reads
/// the job, its new events (metrics into metrics.jsonl, the latest message into the run's status) and its checkpoints.
/// </summary>
public sealed class HostedFineTuningLauncher(IArtifactStore store, HostedClients clients) : IJobLauncher
{
    /// <summary>How many of the newest jobs are searched for one this run started already.</summary>
    const int JobsSearched = 100;
    static readonly TimeSpan FileWait = TimeSpan.FromMinutes(10);

    public string Name => HostedJobRecord.Launcher;

    public async Task<JobHandle> StartAsync(JobSpec spec, string specPath, CancellationToken ct = default)
    {
        if (spec.Kind != JobKinds.Train) throw new InvalidOperationException($"the hosted launcher runs training jobs, not '{spec.Kind}'");
        var model = HostedBaseModel.Parse(spec.BaseModel!);
        var record = await HostedJobRecord.ReadAsync(store, spec.RunId, ct) ?? new HostedJobRecord { BaseModel = model.Spec };
        if (record.JobId is { } known) return Handle(spec.RunId, known);
        var client = clients.For(model.Provider);

        if (record.TrainingFile is null || record.ValidationFile is null)
        {
            var (train, validation) = await WriteUploadsAsync(spec, model, ct);
            var files = client.GetOpenAIFileClient();
            // Each id is recorded as soon as the service has the file, and before the job exists: a retry uploads
            // only what is missing and finds the job these files started instead of creating a second one.
            if (record.TrainingFile is null)
            {
                record = record with { TrainingFile = await UploadAsync(files, train, $"stune-{spec.RunId}-train.jsonl", ct) };
                await record.WriteAsync(store, spec.RunId, ct);
            }
            if (validation is not null && record.ValidationFile is null)
            {
                record = record with { ValidationFile = await UploadAsync(files, validation, $"stune-{spec.RunId}-validation.jsonl", ct) };
                await record.WriteAsync(store, spec.RunId, ct);
            }
        }

        var fineTuning = client.GetFineTuningClient();
        var job = await FindJobAsync(fineTuning, record.TrainingFile!, ct)
                  ?? await HostedClients.CallAsync($"create fine-tuning job for {model.Spec}", () =>
                      fineTuning.FineTuneAsync(model.Model, record.TrainingFile!, waitUntilCompleted: false, Options(spec, record), ct));
        await (record with { JobId = job.JobId, Status = job.Status.ToString() }).WriteAsync(store, spec.RunId, ct);
        return Handle(spec.RunId, job.JobId);
    }

    public async Task<JobProgress> GetStatusAsync(JobHandle job, CancellationToken ct = default)
    {
        var record = await RecordAsync(job, ct);
        var client = clients.For(HostedBaseModel.Parse(record.BaseModel).Provider).GetFineTuningClient();
        var current = await HostedClients.CallAsync($"read fine-tuning job {job.ExecutionId}", () => client.GetJobAsync(job.ExecutionId, ct));
        using var raw = JsonDocument.Parse(current.GetRawResponse().Content);
        string status = raw.RootElement.GetProperty("status").GetString() ?? "unknown";

        var events = await NewEventsAsync(current, record.LastEventId, ct);
        await AppendMetricsAsync(job.RunId, events, ct);
        var checkpoints = new List<HostedCheckpoint>();
        await foreach (var checkpoint in current.GetCheckpointsAsync(new GetCheckpointsOptions { PageSize = 100 }, ct))
            checkpoints.Add(new HostedCheckpoint(checkpoint.Id, checkpoint.StepNumber, checkpoint.ModelId, checkpoint.Metrics?.TrainLoss,
                checkpoint.Metrics?.ValidLoss));
        record = record with
        {
            Status = status,
            LastEventId = events.Count > 0 ? events[^1].Id : record.LastEventId,
            LastMessage = events.Count > 0 ? events[^1].Message : record.LastMessage,
            Checkpoints = [.. checkpoints.OrderBy(c => c.Step)],
            FineTunedModel = Text(raw.RootElement, "fine_tuned_model"),
            Error = raw.RootElement.TryGetProperty("error", out var error) ? ErrorText(error) : null,
        };
        await record.WriteAsync(store, job.RunId, ct);

        return status switch
        {
            "succeeded" when record.FineTunedModel is not null => new JobProgress(JobState.Succeeded, Message: $"fine-tuned model {record.FineTunedModel}"),
            "succeeded" => new JobProgress(JobState.Failed, Error: "the service reported success but named no fine-tuned model"),
            "failed" => new JobProgress(JobState.Failed, Error: record.Error ?? "the service reported a failure without an error"),
            "cancelled" => new JobProgress(JobState.Failed, Error: "the job was cancelled"),
            _ => new JobProgress(JobState.Running, Message: record.LastMessage ?? status),
        };
    }

    public async Task StopAsync(JobHandle job, CancellationToken ct = default)
    {
        var record = await RecordAsync(job, ct);
        var client = clients.For(HostedBaseModel.Parse(record.BaseModel).Provider).GetFineTuningClient();
        var current = await HostedClients.CallAsync($"read fine-tuning job {job.ExecutionId}", () => client.GetJobAsync(job.ExecutionId, ct));
        if (!current.Status.InProgress) return;
        await HostedClients.CallAsync($"cancel fine-tuning job {job.ExecutionId}", () => current.CancelAndUpdateAsync(ct));
        await (record with { Status = current.Status.ToString() }).WriteAsync(store, job.RunId, ct);
    }

    /// <summary>The API's JSONL of both splits in the store, each validated before upload; no validation file when that split is empty.</summary>
    async Task<(BinaryData Train, BinaryData? Validation)> WriteUploadsAsync(JobSpec spec, HostedBaseModel model, CancellationToken ct)
    {
        var paths = ArtifactLayout.Run(spec.RunId).Job(JobKinds.Train);
        using var local = new LocalArtifacts(store);
        async Task<BinaryData?> SplitAsync(string split, int minExamples)
        {
            string prepared = await local.FileAsync(ArtifactPath.Combine(spec.Data, split), ct);
            int examples = 0;
            await store.WriteAsync(paths.Upload(split), (stream, _) =>
            {
                examples = FineTuningFile.Write(prepared, stream);
                return Task.CompletedTask;
            }, ct);
            if (examples == 0 && split == PreparedPaths.ValidationFile) return null;
            string written = await local.FileAsync(paths.Upload(split), ct);
            FineTuningFile.Validate(written, paths.Upload(split), model, minExamples);
            return BinaryData.FromBytes(await File.ReadAllBytesAsync(written, ct));
        }
        return ((await SplitAsync(PreparedPaths.TrainFile, FineTuningFile.MinTrainingExamples))!, await SplitAsync(PreparedPaths.ValidationFile, 1));
    }

    /// <summary>
    /// Uploads a file and waits until the service processed it. (No lookup of an earlier upload by name:
    /// Azure.AI.OpenAI 2.9.0-beta.1 sends the file list to {endpoint}/files, without /openai and its api-version.)
    /// </summary>
    async Task<string> UploadAsync(OpenAIFileClient files, BinaryData content, string name, CancellationToken ct)
    {
        OpenAIFile file = (await HostedClients.CallAsync($"upload {name}", () =>
            files.UploadFileAsync(content, name, FileUploadPurpose.FineTune))).Value;

        var deadline = DateTimeOffset.UtcNow + FileWait;
        while (true)
        {
            // The raw status: Azure OpenAI has words (pending, running) the library's enum lacks.
            var result = await HostedClients.CallAsync($"read file {file.Id}", () => files.GetFileAsync(file.Id, new RequestOptions { CancellationToken = ct }));
            using var raw = JsonDocument.Parse(result.GetRawResponse().Content);
            string status = Text(raw.RootElement, "status") ?? "processed";
            if (status == "processed") return file.Id;
            if (status is "error" or "failed")
                throw new UserInputException($"{name}: the service refused the file: {Text(raw.RootElement, "status_details") ?? status}");
            if (DateTimeOffset.UtcNow > deadline) throw new TimeoutException($"{name}: still {status} after {FileWait.TotalMinutes} minutes");
            await Task.Delay(clients.Settings.FileInterval, ct);
        }
    }

    static async Task<FineTuningJob?> FindJobAsync(FineTuningClient client, string trainingFile, CancellationToken ct)
    {
        int seen = 0;
        await foreach (var job in client.GetJobsAsync(new FineTuningJobCollectionOptions { PageSize = JobsSearched }, ct))
        {
            if (job.TrainingFileId == trainingFile) return job;
            if (++seen >= JobsSearched) break;
        }
        return null;
    }

    static FineTuningOptions Options(JobSpec spec, HostedJobRecord record)
    {
        var hyper = spec.Hosted ?? new HostedTrainingOptions();
        var options = new FineTuningOptions { Suffix = spec.Project, ValidationFile = record.ValidationFile, Seed = hyper.Seed };
        if (hyper.Epochs is not null || hyper.BatchSize is not null || hyper.LearningRateMultiplier is not null)
            options.TrainingMethod = FineTuningTrainingMethod.CreateSupervised(
                hyper.BatchSize is { } batch ? HyperparameterBatchSize.CreateSize(batch) : HyperparameterBatchSize.CreateAuto(),
                hyper.Epochs is { } epochs ? HyperparameterEpochCount.CreateEpochCount(epochs) : HyperparameterEpochCount.CreateAuto(),
                hyper.LearningRateMultiplier is { } rate ? HyperparameterLearningRate.CreateMultiplier(rate) : HyperparameterLearningRate.CreateAuto());
        return options;
    }

    /// <summary>Events after the last one seen, oldest first (the API lists newest first).</summary>
    static async Task<List<FineTuningEvent>> NewEventsAsync(FineTuningJob job, string? lastSeen, CancellationToken ct)
    {
        var events = new List<FineTuningEvent>();
        await foreach (var item in job.GetEventsAsync(new GetEventsOptions { PageSize = 100 }, ct))
        {
            if (item.Id == lastSeen || events.Count >= 10_000) break;
            events.Add(item);
        }
        events.Reverse();
        return events;
    }

    /// <summary>
    /// Metrics events become metrics.jsonl lines in the trainer's own shape, so progress and the report's curves read
    /// them alike. Steps already in the file are skipped: a poll that died before its record was written reads the
    /// same events again.
    /// </summary>
    async Task AppendMetricsAsync(string runId, IReadOnlyList<FineTuningEvent> events, CancellationToken ct)
    {
        string path = ArtifactLayout.Run(runId).Metrics;
        int written = (await MetricsFile.ReadAsync(store, path, ct)).Where(r => r.Kind == MetricRecord.TrainKind).Max(r => r.Step) ?? 0;
        var lines = new StringBuilder();
        foreach (var item in events)
        {
            if (item.Kind != FineTuningJobEventKind.Metrics || item.Data is null) continue;
            using var data = JsonDocument.Parse(item.Data);
            var root = data.RootElement;
            if (Number(root, "step") is not { } step || step <= written) continue;
            if (Number(root, "train_loss") is { } loss)
                lines.Append(MetricsWriter.Line(new MetricRecord { Kind = MetricRecord.TrainKind, Step = (int)step, TotalSteps = (int?)Number(root, "total_steps"), Loss = loss })).Append('\n');
            if ((Number(root, "full_valid_loss") ?? Number(root, "valid_loss")) is { } valid)
                lines.Append(MetricsWriter.Line(new MetricRecord { Kind = MetricRecord.EvalKind, Step = (int)step, ValLoss = valid })).Append('\n');
        }
        if (lines.Length == 0) return;
        string before = await store.ExistsAsync(path, ct) ? await store.ReadAllTextAsync(path, ct) : "";
        await store.WriteAllTextAsync(path, before + lines, ct);
    }

    async Task<HostedJobRecord> RecordAsync(JobHandle job, CancellationToken ct) =>
        await HostedJobRecord.ReadAsync(store, job.RunId, ct)
        ?? throw new InvalidDataException($"{HostedJobRecord.PathOf(job.RunId)}: missing for hosted job {job.ExecutionId}");

    JobHandle Handle(string runId, string jobId) => new(runId, JobKinds.Train, Name, jobId);

    static string ErrorText(JsonElement error) => error.ValueKind != JsonValueKind.Object ? error.ToString()
        : string.Join(" ", new[] { Text(error, "message"), Text(error, "code") is { } code ? $"({code})" : null }.Where(s => s is not null));

    static string? Text(JsonElement element, string key) =>
        element.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    static double? Number(JsonElement element, string key) =>
        element.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble() : null;
}
