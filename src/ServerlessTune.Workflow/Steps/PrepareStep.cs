using System.Text.Json;
using ServerlessTune.Core;
using ServerlessTune.Core.Data;
using ServerlessTune.Core.Hosted;
using ServerlessTune.Core.Feedback;
using ServerlessTune.Core.Modeling;
using ServerlessTune.Core.Storage;
using ServerlessTune.Core.Tokenization;

namespace ServerlessTune.Workflow.Steps;

/// <summary>
/// The PrepareData step: every data file under datasets/{project}/ into prepared/{runId}/, tokenised with the
/// base model's own tokenizer and chat template and held to its context, so what is counted is what is trained.
/// A hosted base has no folder: records are counted with the encoding its service counts with and held to the
/// longest training example the service accepts.
/// Preparation is deterministic (byte-identical outputs), so a retry rewrites the same artifacts (unless users rated more
/// answers in between: the served conversations are read as they are when the step runs). The step also applies the logs'
/// retention, so old conversations go without anyone deleting them by hand, and records when it read the feedback log
/// (<see cref="FeedbackCutoff"/>: ratings after it count toward feedback.retrain_after).
/// </summary>
public sealed class PrepareStep(IArtifactStore store)
{
    public async Task<PreparedData> RunAsync(PrepareDataInput input, CancellationToken ct = default)
    {
        string source = ArtifactLayout.Dataset(input.Project).Prefix;
        var output = ArtifactLayout.Prepared(input.RunId);
        using var local = new LocalArtifacts(store);
        var options = await OptionsAsync(input, local, ct);
        var request = await PrepareRequest.FromStorePrefixAsync(store, source, output.Prefix, options, ct);
        var feedback = input.Feedback ?? new FeedbackOptions();
        await FeedbackSource.ApplyRetentionAsync(store, input.Project, feedback, DateOnly.FromDateTime(DateTime.UtcNow), ct);
        if (feedback.Include) request = await WithFeedbackAsync(request, input.Project, feedback, output, ct);
        if (request.Inputs.Count == 0)
            throw new UserInputException($"{source}: no data files in {store.Location}");
        var stats = await DataPreparationService.RunAsync(request, cancellationToken: ct);
        if (stats.Totals.Train == 0)
            throw new UserInputException($"{source}: no usable training records ({stats.Totals.Input} read, {stats.Totals.Rejected} rejected: see {output.Rejects})");
        return new PreparedData(output.Folder, stats.DatasetVersion, stats.Totals.Train, stats.Totals.Validation, options.Template);
    }

    static async Task<PrepareOptions> OptionsAsync(PrepareDataInput input, LocalArtifacts local, CancellationToken ct)
    {
        if (HostedBaseModel.TryParse(input.BaseModel, out var hosted))
            return input.Options with
            {
                Tokenizer = hosted.Tokenizer,
                Template = ChatTemplates.Names[0],
                MaxTokens = Math.Min(input.Options.MaxTokens, hosted.ExampleTokenLimit),
            };
        string model = await local.FolderAsync(input.BaseModel, ct);
        return input.Options with
        {
            Tokenizer = input.Tokenizer ?? model,
            Template = ChatTemplates.For(model, input.ChatTemplate).Name,
            MaxTokens = Math.Min(input.Options.MaxTokens, ModelConfig.Load(model).MaxPositions),
        };
    }

    /// <summary>Rated and corrected answers as one more chat file; rated-down ones as evaluation cases beside it.</summary>
    async Task<PrepareRequest> WithFeedbackAsync(PrepareRequest request, string project, FeedbackOptions feedback, PreparedPaths output,
        CancellationToken ct)
    {
        var cutoff = new FeedbackCutoff(output.RunId, DateTimeOffset.UtcNow);
        var harvest = await FeedbackSource.CollectAsync(store, project, feedback, ct);
        await cutoff.WriteAsync(store, project, ct);
        var inputs = request.Inputs;
        if (harvest.Chats.Count > 0)
        {
            await store.WriteAllTextAsync(output.FeedbackChats, JsonLines(harvest.Chats.Select(chat => new
            {
                messages = chat.Select(m => new { role = m.Role, content = m.Content }),
            })), ct);
            inputs = [.. inputs, new PrepareInput(store, output.FeedbackChats)];
        }
        if (harvest.Cases.Count > 0) await store.WriteAllTextAsync(output.FeedbackCases, FeedbackCaseFile.Serialize(harvest.Cases), ct);
        return request with { Inputs = inputs, Feedback = harvest.Stats };
    }

    static string JsonLines<T>(IEnumerable<T> records) =>
        string.Concat(records.Select(r => JsonSerializer.Serialize(r, LogJson.Options) + "\n"));
}
