using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using ServerlessTune.Core;
using ServerlessTune.Core.Data;
using ServerlessTune.Core.Data.Output;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Cli.Commands;

/// <summary>`stune prepare`: turns local support exports into a prepared dataset folder (train/validation/rejects/stats/manifest).</summary>
internal static class PrepareCommands
{
    static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public static Command Create()
    {
        var defaults = new PrepareOptions();
        var inputs = new Argument<string[]>("inputs") { Description = "Files or folders of chat JSONL, prompt/completion JSONL, FAQ CSV/TSV/JSON, transcripts, documents or Parquet.", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--out") { Description = "Folder for train.jsonl, validation.jsonl, rejects.jsonl, stats.json, manifest.json.", Required = true };
        var tokenizer = new Option<string>("--tokenizer") { Description = "Model folder or built-in encoding (gpt2, cl100k, o200k).", DefaultValueFactory = _ => defaults.Tokenizer };
        var template = new Option<string>("--template") { Description = "Chat template: chatml, llama2, llama3, phi3, zephyr, plain.", DefaultValueFactory = _ => defaults.Template };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Longest record in tokens.", DefaultValueFactory = _ => defaults.MaxTokens };
        var overLimit = new Option<OverLimitPolicy>("--over-limit") { Description = "What to do with longer records: drop or truncate.", DefaultValueFactory = _ => defaults.OverLimit };
        var valFraction = new Option<double>("--val-fraction") { Description = "Share of records for validation.", DefaultValueFactory = _ => defaults.ValidationFraction };
        var seed = new Option<int>("--seed") { Description = "Seed of the train/validation split.", DefaultValueFactory = _ => defaults.Seed };
        var format = new Option<InputFormat>("--format") { Description = "Force the input format instead of detecting it.", DefaultValueFactory = _ => InputFormat.Auto };
        var noRedact = new Option<bool>("--no-redact") { Description = "Keep personal data (emails, phones, cards, IBANs, IPs, SSNs) as written." };
        var noDedup = new Option<bool>("--no-dedup") { Description = "Keep exact and near duplicates." };
        var nearDup = new Option<double>("--near-dup-threshold") { Description = "Jaccard similarity at which records count as near duplicates.", DefaultValueFactory = _ => defaults.NearDuplicateThreshold };
        var maxRecordBytes = new Option<int>("--max-record-bytes") { Description = "Largest record read; larger ones are rejected.", DefaultValueFactory = _ => defaults.MaxRecordBytes };
        var passageChars = new Option<int>("--passage-chars") { Description = "Target passage size for documents.", DefaultValueFactory = _ => defaults.PassageChars };
        var questionColumn = new Option<string?>("--question-column") { Description = "FAQ question column: header name or 1-based index." };
        var answerColumn = new Option<string?>("--answer-column") { Description = "FAQ answer column: header name or 1-based index." };
        var speakers = new Option<string[]>("--speaker") { Description = "Extra transcript label, e.g. Rep=assistant (repeatable).", Arity = ArgumentArity.ZeroOrMore };
        var json = new Option<bool>("--json") { Description = "Print stats.json instead of the summary." };
        var command = new Command("prepare", "Parse, validate, normalise, redact, deduplicate, tokenise and split support data into a training set.")
        {
            inputs, output, tokenizer, template, maxTokens, overLimit, valFraction, seed, format, noRedact, noDedup, nearDup,
            maxRecordBytes, passageChars, questionColumn, answerColumn, speakers, json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            string outDir = parse.GetValue(output)!;
            var options = new PrepareOptions
            {
                Format = parse.GetValue(format), Tokenizer = parse.GetValue(tokenizer)!, Template = parse.GetValue(template)!,
                MaxTokens = parse.GetValue(maxTokens), OverLimit = parse.GetValue(overLimit), ValidationFraction = parse.GetValue(valFraction),
                Seed = parse.GetValue(seed), Redact = !parse.GetValue(noRedact), Deduplicate = !parse.GetValue(noDedup),
                NearDuplicateThreshold = parse.GetValue(nearDup), MaxRecordBytes = parse.GetValue(maxRecordBytes), PassageChars = parse.GetValue(passageChars),
                QuestionColumn = parse.GetValue(questionColumn), AnswerColumn = parse.GetValue(answerColumn),
                SpeakerLabels = SpeakerLabels(parse.GetValue(speakers) ?? []),
            };
            var resolved = await LocalInputs.ResolveAsync(parse.GetValue(inputs)!, outDir, cancellationToken);
            var request = new PrepareRequest(resolved, new LocalFolderStore(outDir), "", options);
            var stats = await DataPreparationService.RunAsync(request, new StderrProgress(), cancellationToken);
            if (parse.GetValue(json)) Console.Out.WriteLine(JsonSerializer.Serialize(stats, Json));
            else PrintSummary(stats, outDir);
            return 0;
        });
        return command;
    }

    static IReadOnlyDictionary<string, string> SpeakerLabels(string[] specs)
    {
        var labels = new SortedDictionary<string, string>(PrepareOptions.DefaultSpeakerLabels.ToDictionary(), StringComparer.Ordinal);
        foreach (string spec in specs)
        {
            int eq = spec.IndexOf('=');
            if (eq <= 0) throw new UserInputException($"--speaker '{spec}': use Label=user|assistant|system");
            labels[spec[..eq].Trim().ToLowerInvariant()] = spec[(eq + 1)..].Trim().ToLowerInvariant();
        }
        return labels;
    }

    static void PrintSummary(PrepareStats stats, string outDir)
    {
        var t = stats.Totals;
        Console.Out.WriteLine($"records {t.Input}: kept {t.Kept} (train {t.Train}, validation {t.Validation}), rejected {t.Rejected}, duplicates {t.Deduplicated}, filtered {t.Filtered}");
        foreach (var (reason, count) in stats.Reasons) Console.Out.WriteLine($"  {reason} {count}");
        var pii = string.Join(", ", stats.Stages.Redact.Counts.Where(p => p.Value > 0).Select(p => $"{p.Key} {p.Value}"));
        if (pii.Length > 0) Console.Out.WriteLine($"redacted {pii}");
        Console.Out.WriteLine($"train tokens per epoch {stats.Tokens.TrainTokensPerEpoch} (trained {stats.Tokens.TrainTrainedTokensPerEpoch}), p95 {stats.Tokens.All.P95}, max {stats.Tokens.All.Max}");
        Console.Out.WriteLine($"dataset version {stats.DatasetVersion} in {Path.GetFullPath(outDir)}");
    }

    /// <summary>At most one progress line a second on stderr; stdout stays the result alone.</summary>
    sealed class StderrProgress : IProgress<PrepareProgress>
    {
        readonly Stopwatch _clock = Stopwatch.StartNew();
        long _last = -1000;

        public void Report(PrepareProgress value)
        {
            long now = _clock.ElapsedMilliseconds;
            if (now - _last < 1000) return;
            _last = now;
            double mb = value.BytesRead / 1e6;
            Console.Error.WriteLine($"prepare: {mb:F1} MB, {value.Records} records, {mb / Math.Max(0.001, now / 1000.0):F1} MB/s ({value.CurrentFile})");
        }
    }
}
