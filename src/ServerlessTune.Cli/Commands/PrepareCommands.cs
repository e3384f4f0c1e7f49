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
        var output = new Option<string?>("--out") { Description = "Folder for train.jsonl, validation.jsonl, rejects.jsonl, stats.json, manifest.json (not with --dry-run)." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Read, map and count every record and show the mapping; write nothing." };
        var tokenizer = new Option<string>("--tokenizer") { Description = "Model folder or built-in encoding (gpt2, cl100k, o200k).", DefaultValueFactory = _ => defaults.Tokenizer };
        var template = new Option<string>("--template") { Description = "Chat template: chatml, llama2, llama3, phi3, zephyr, plain.", DefaultValueFactory = _ => defaults.Template };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Longest record in tokens.", DefaultValueFactory = _ => defaults.MaxTokens };
        var overLimit = new Option<OverLimitPolicy>("--over-limit") { Description = "What to do with longer records: drop or truncate.", DefaultValueFactory = _ => defaults.OverLimit };
        var valFraction = new Option<double>("--val-fraction") { Description = "Share of records for validation.", DefaultValueFactory = _ => defaults.ValidationFraction };
        var seed = new Option<int>("--seed") { Description = "Seed of the train/validation split.", DefaultValueFactory = _ => defaults.Seed };
        var format = new Option<InputFormat>("--format") { Description = "Force the input format instead of detecting it.", DefaultValueFactory = _ => InputFormat.Auto };
        var noRedact = new Option<bool>("--no-redact") { Description = "Keep personal data (emails, phones, cards, IBANs, IPs, SSNs) as written; secrets are always handled." };
        var secrets = new Option<SecretPolicy>("--secrets") { Description = "Records holding a secret (API keys, tokens, private keys, passwords): redact or reject.", DefaultValueFactory = _ => defaults.Secrets };
        var placeholders = new Option<PlaceholderPolicy>("--placeholders") { Description = "Records whose answer holds a template placeholder ({{Order Number}}): keep or drop.", DefaultValueFactory = _ => defaults.Placeholders };
        var documents = new Option<DocumentMode>("--documents") { Description = "Documents as plain-text passages (text) or question headings as pairs (qa).", DefaultValueFactory = _ => defaults.Documents };
        var noDedup = new Option<bool>("--no-dedup") { Description = "Keep exact and near duplicates." };
        var nearDup = new Option<double>("--near-dup-threshold") { Description = "Jaccard similarity at which records count as near duplicates.", DefaultValueFactory = _ => defaults.NearDuplicateThreshold };
        var maxRecordBytes = new Option<int>("--max-record-bytes") { Description = "Largest record read; larger ones are rejected.", DefaultValueFactory = _ => defaults.MaxRecordBytes };
        var passageChars = new Option<int>("--passage-chars") { Description = "Target passage size for documents.", DefaultValueFactory = _ => defaults.PassageChars };
        var userColumn = new Option<string?>("--user-column") { Description = "Column or key of the user side (header name or 1-based index); pipeline.json prepare.columns.user." };
        var inputColumn = new Option<string?>("--input-column") { Description = "Column appended to the user side (Alpaca input, Dolly context)." };
        var assistantColumn = new Option<string?>("--assistant-column") { Description = "Column or key of the assistant side." };
        var systemColumn = new Option<string?>("--system-column") { Description = "Column or key of a system prompt." };
        var roles = new Option<string[]>("--role") { Description = "Extra role name for message roles and transcript labels, e.g. Rep=assistant (repeatable); pipeline.json prepare.roles.", Arity = ArgumentArity.ZeroOrMore };
        var json = new Option<bool>("--json") { Description = "Print stats.json instead of the summary." };
        var command = new Command("prepare", "Parse, validate, normalise, redact, deduplicate, tokenise and split support data into a training set.")
        {
            inputs, output, dryRun, tokenizer, template, maxTokens, overLimit, valFraction, seed, format, noRedact, secrets, placeholders, documents,
            noDedup, nearDup, maxRecordBytes, passageChars, userColumn, inputColumn, assistantColumn, systemColumn, roles, json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            string? outDir = parse.GetValue(output);
            bool dry = parse.GetValue(dryRun);
            if (outDir is null && !dry)
            {
                Console.Error.WriteLine("usage: --out is required (or --dry-run to only show the mapping and the counts)");
                return 2;
            }
            var options = new PrepareOptions
            {
                Format = parse.GetValue(format), Tokenizer = parse.GetValue(tokenizer)!, Template = parse.GetValue(template)!,
                MaxTokens = parse.GetValue(maxTokens), OverLimit = parse.GetValue(overLimit), ValidationFraction = parse.GetValue(valFraction),
                Seed = parse.GetValue(seed), Redact = !parse.GetValue(noRedact), Deduplicate = !parse.GetValue(noDedup),
                NearDuplicateThreshold = parse.GetValue(nearDup), MaxRecordBytes = parse.GetValue(maxRecordBytes), PassageChars = parse.GetValue(passageChars),
                Secrets = parse.GetValue(secrets), Placeholders = parse.GetValue(placeholders), Documents = parse.GetValue(documents),
                Columns = new ColumnChoice
                {
                    User = parse.GetValue(userColumn), Input = parse.GetValue(inputColumn),
                    Assistant = parse.GetValue(assistantColumn), System = parse.GetValue(systemColumn),
                },
                Roles = Roles(parse.GetValue(roles) ?? []),
            };
            var resolved = await LocalInputs.ResolveAsync(parse.GetValue(inputs)!, outDir, cancellationToken);
            var request = new PrepareRequest(resolved, dry ? null : new LocalFolderStore(outDir!), "", options);
            var stats = await DataPreparationService.RunAsync(request, new StderrProgress(), cancellationToken);
            PrintMappings(stats);
            if (parse.GetValue(json)) Console.Out.WriteLine(JsonSerializer.Serialize(stats, Json));
            else PrintSummary(stats, dry ? null : outDir);
            return 0;
        });
        return command;
    }

    static IReadOnlyDictionary<string, string> Roles(string[] specs)
    {
        var roles = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (string spec in specs)
        {
            int eq = spec.IndexOf('=');
            if (eq <= 0) throw new UserInputException($"--role '{spec}': use name=user|assistant|system");
            roles[spec[..eq].Trim().ToLowerInvariant()] = spec[(eq + 1)..].Trim().ToLowerInvariant();
        }
        return roles;
    }

    /// <summary>Per file on stderr: how it was read and the first record it gave, so a wrong column shows before training.</summary>
    static void PrintMappings(PrepareStats stats)
    {
        foreach (var file in stats.Files)
        {
            string how = file.Mapping?.Describe() ?? "nothing to map";
            Console.Error.WriteLine($"{file.Path}: {file.Format}{(file.Encoding == "utf-8" ? "" : $" ({file.Encoding})")}, {how}");
            foreach (var message in file.Sample ?? [])
                Console.Error.WriteLine($"  {message.Role}: {message.Content.ReplaceLineEndings(" ")}");
        }
    }

    static void PrintSummary(PrepareStats stats, string? outDir)
    {
        var t = stats.Totals;
        Console.Out.WriteLine($"records {t.Input}: kept {t.Kept} (train {t.Train}, validation {t.Validation}), rejected {t.Rejected}, duplicates {t.Deduplicated}, filtered {t.Filtered}");
        foreach (var (reason, count) in stats.Reasons) Console.Out.WriteLine($"  {reason} {count}");
        var pii = string.Join(", ", stats.Stages.Redact.Counts.Where(p => p.Value > 0).Select(p => $"{p.Key} {p.Value}"));
        if (pii.Length > 0) Console.Out.WriteLine($"redacted {pii}");
        var secrets = stats.Stages.Redact.Secrets;
        if (secrets.Records > 0)
            Console.Out.WriteLine($"secrets ({secrets.Policy}) {string.Join(", ", secrets.Counts.Where(p => p.Value > 0).Select(p => $"{p.Key} {p.Value}"))}");
        var placeholders = stats.Stages.Placeholders;
        if (placeholders.Records > 0)
            Console.Out.WriteLine($"template placeholders ({placeholders.Policy}) in {placeholders.Records} answers: {string.Join(", ", placeholders.Top.OrderByDescending(p => p.Value).Take(5).Select(p => $"{p.Key} {p.Value}"))}");
        Console.Out.WriteLine($"train tokens per epoch {stats.Tokens.TrainTokensPerEpoch} (trained {stats.Tokens.TrainTrainedTokensPerEpoch}), p95 {stats.Tokens.All.P95}, max {stats.Tokens.All.Max}");
        Console.Out.WriteLine(outDir is null ? $"dataset version {stats.DatasetVersion} (dry run: nothing written)" : $"dataset version {stats.DatasetVersion} in {Path.GetFullPath(outDir)}");
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
