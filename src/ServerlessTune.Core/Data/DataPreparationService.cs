using System.Runtime.ExceptionServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.Channels;
using ServerlessTune.Core.Data.Dedup;
using ServerlessTune.Core.Data.Mapping;
using ServerlessTune.Core.Data.Output;
using ServerlessTune.Core.Data.Parsing;
using ServerlessTune.Core.Data.Redaction;
using ServerlessTune.Core.Storage;
using ServerlessTune.Core.Tokenization;

namespace ServerlessTune.Core.Data;

/// <summary>
/// Prepares a chat training set from raw files: parse, normalise, redact, deduplicate, tokenise, split;
/// writes train.jsonl, validation.jsonl, rejects.jsonl, stats.json and manifest.json (last) under the
/// output prefix. Streaming throughout: one reader finds record boundaries, workers (one per core, up to eight) run the
/// per-record stages, and one consumer takes their results back in input order, so deduplication keeps
/// the first occurrence and the outputs are byte-identical run to run. Bounded channels keep memory flat.
/// </summary>
public static class DataPreparationService
{
    public const string Generator = "stune-prepare/1";
    const int BatchSize = 64;
    // Each worker holds its own tokenizer (20 MB for gpt2, 64 MB for o200k); past eight, the one reader and
    // the one ordered consumer set the pace anyway.
    const int MaxWorkers = 8;

    /// <summary>Workers a run uses here: one per core, up to eight (the benchmark's limit runs the same number of tokenizers).</summary>
    public static int WorkerCount => Math.Clamp(Environment.ProcessorCount, 1, MaxWorkers);

    static readonly JsonSerializerOptions StatsJson = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    sealed class Batch(int file, string source)
    {
        public int File { get; } = file;
        public string Source { get; } = source;
        public List<RawRecord> Records { get; } = new(BatchSize);
        public ProcessedRecord[] Results { get; set; } = [];
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public static async Task<PrepareStats> RunAsync(PrepareRequest request, IProgress<PrepareProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        var options = request.Options.Validate();
        int workers = WorkerCount;
        // One tokenizer per worker, loaded side by side: a shared one serialises the workers on its cache lock.
        var processors = await Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Task.Run(() => CreateProcessor(options), cancellationToken)));
        string prefix = request.OutputPrefix.Length == 0 || request.OutputPrefix.EndsWith('/') ? request.OutputPrefix : request.OutputPrefix + "/";

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var ct = cts.Token;
        // A dry run goes through every stage and counts everything, and writes nothing.
        var train = new ArtifactStreamWriter(request.OutputStore, prefix, PreparedPaths.TrainFile, ct);
        var validation = new ArtifactStreamWriter(request.OutputStore, prefix, PreparedPaths.ValidationFile, ct);
        var rejects = new ArtifactStreamWriter(request.OutputStore, prefix, PreparedPaths.RejectsFile, ct);
        var stats = new StatsCollector(request.Inputs);
        var inputFiles = new InputFile[request.Inputs.Count];

        var work = Channel.CreateBounded<Batch>(new BoundedChannelOptions(workers * 2) { SingleWriter = true });
        var ordered = Channel.CreateBounded<Batch>(new BoundedChannelOptions(workers * 4) { SingleWriter = true, SingleReader = true });
        var producer = Task.Run(() => ProduceAsync(request.Inputs, options, stats, inputFiles, work.Writer, ordered.Writer, progress, ct), ct);
        // Workers get their own threads: CPU-bound work on pool threads would starve the reader's and writer's
        // async continuations on a small machine (the pool has one thread per core to start with).
        var workerTasks = processors.Select(processor => Task.Factory.StartNew(() => Work(work.Reader, processor, ct),
            ct, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();
        try
        {
            await ConsumeAsync(ordered.Reader, request.Inputs, options, stats, train, validation, rejects, ct);
            await producer;
            await Task.WhenAll(workerTasks);
            var outputs = new List<OutputFile>
            {
                await train.CompleteAsync(ct), await validation.CompleteAsync(ct), await rejects.CompleteAsync(ct),
            };
            string version = DatasetVersion(inputFiles, options);
            var result = stats.Build(version, options, processors[0].Encoder) with { Feedback = request.Feedback };
            if (!result.AccountingHolds)
                throw new InvalidOperationException("record accounting does not balance: " + JsonSerializer.Serialize(result.Totals));
            if (request.OutputStore is not { } store) return result;
            outputs.Add(await WriteJsonAsync(store, prefix, PreparedPaths.StatsFile, result, ct));
            await WriteJsonAsync(store, prefix, PreparedPaths.ManifestFile, new PrepareManifest(version, Generator, inputFiles, outputs), ct);
            return result;
        }
        catch (Exception ex)
        {
            cts.Cancel();
            await Task.WhenAll(train.AbortAsync(ex), validation.AbortAsync(ex), rejects.AbortAsync(ex));
            try { await Task.WhenAll([producer, .. workerTasks]); } catch (Exception) { /* inspected below */ }
            // The first real failure explains the run; the others are its cancellations.
            var root = new[] { producer }.Concat(workerTasks).Where(t => t.IsFaulted).Select(t => t.Exception!.InnerException!)
                .FirstOrDefault(e => e is not OperationCanceledException and not ChannelClosedException) ?? ex;
            ExceptionDispatchInfo.Capture(root).Throw();
            throw;
        }
    }

    static RecordProcessor CreateProcessor(PrepareOptions options)
    {
        var tokenizer = TokenizerLoader.LoadUnshared(options.Tokenizer);
        var encoder = new RecordEncoder(tokenizer, ChatTemplates.ByName(options.Template, tokenizer), options.MaxTokens, options.OverLimit);
        return new RecordProcessor(options, encoder);
    }

    static async Task ProduceAsync(IReadOnlyList<PrepareInput> inputs, PrepareOptions options, StatsCollector stats, InputFile[] inputFiles,
        ChannelWriter<Batch> work, ChannelWriter<Batch> ordered, IProgress<PrepareProgress>? progress, CancellationToken ct)
    {
        try
        {
            long done = 0, records = 0;
            var roleNames = options.RoleNames();
            for (int file = 0; file < inputs.Count; file++)
            {
                var input = inputs[file];
                var batch = new Batch(file, input.Path);
                async Task Flush(long bytesRead)
                {
                    if (batch.Records.Count == 0) return;
                    await ordered.WriteAsync(batch, ct);
                    await work.WriteAsync(batch, ct);
                    records += batch.Records.Count;
                    progress?.Report(new PrepareProgress(input.Path, done + bytesRead, records));
                    batch = new Batch(file, input.Path);
                }
                if (input.Refused is { } refused)
                {
                    // Never opened (a link out of the input folder, a dangling link, a loop): one reject for the file, line 0.
                    stats.SetFormat(file, "refused", "none");
                    batch.Records.Add(new ReadyRecord(0, refused));
                    await Flush(0);
                    inputFiles[file] = new InputFile(input.Path, "refused", 0, EmptySha256);
                    continue;
                }
                await using var stream = await InputStream.OpenAsync(await input.Store.OpenReadAsync(input.Path, ct), ct);
                var format = FormatDetector.Detect(input.Path, stream.Head, options.Format, roleNames);
                string formatName = format?.ToString().ToLowerInvariant() ?? "unrecognized";
                stats.SetFormat(file, formatName, stream.Encoding);
                int index = file;
                await foreach (var record in ReadRecordsAsync(input.Path, stream, format, options, mapping => stats.SetMapping(index, mapping), ct))
                {
                    batch.Records.Add(record);
                    if (batch.Records.Count == BatchSize) await Flush(stream.BytesRead);
                }
                await Flush(stream.BytesRead);
                var (size, sha) = await stream.FinishAsync(ct);
                inputFiles[file] = new InputFile(input.Path, formatName, size, sha);
                done += size;
            }
            ordered.Complete();
            work.Complete();
        }
        catch (Exception ex)
        {
            ordered.TryComplete(ex);
            work.TryComplete(ex);
            throw;
        }
    }

    static readonly string EmptySha256 = Convert.ToHexStringLower(SHA256.HashData([]));

    static async IAsyncEnumerable<RawRecord> ReadRecordsAsync(string path, InputStream stream, InputFormat? format, PrepareOptions options,
        Action<RecordMapping> mapped, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        if (format is null)
        {
            if (stream.Head.Length > 0)
                yield return new ReadyRecord(1, new Rejection(RejectReason.UnrecognizedFormat, FormatDetector.DescribeBinary(stream.Head)));
            yield break;
        }
        IAsyncEnumerable<RawRecord> records;
        switch (format)
        {
            case InputFormat.Parquet:
                records = ParquetRecordsAsync(stream, options, ct);
                break;
            case InputFormat.Jsonl or InputFormat.Json:
                IRecordSource json = format == InputFormat.Jsonl ? new JsonLinesSource(options.MaxRecordBytes) : new JsonArraySource(options.MaxRecordBytes);
                records = json.ReadAsync(stream, ct);
                break;
            case InputFormat.Csv or InputFormat.Tsv:
                records = new DelimitedSource(path, format == InputFormat.Csv ? ',' : '\t', options, mapped).ReadAsync(stream, ct);
                break;
            case InputFormat.Transcript:
                mapped(new RecordMapping { Kind = MappingKind.Transcript, Decided = "speaker labels (prepare.roles adds more)" });
                records = new TranscriptSource(options, FormatDetector.UsesSeparatorLines(stream.Head)).ReadAsync(stream, ct);
                break;
            default:
                mapped(new RecordMapping { Kind = MappingKind.Document, Decided = options.Documents == DocumentMode.Qa ? "question headings as pairs, the rest as passages" : "passages, trained as plain text" });
                records = new DocumentSource(options).ReadAsync(stream, ct);
                break;
        }
        if (format is InputFormat.Parquet or InputFormat.Jsonl or InputFormat.Json)
            records = JsonMapping.ApplyAsync(records, path, options, mapped, ct);
        await foreach (var record in records.WithCancellation(ct))
            yield return record;
    }

    /// <summary>Parquet needs seeking; the (possibly remote) stream is spooled to a temporary file first.</summary>
    static async IAsyncEnumerable<RawRecord> ParquetRecordsAsync(InputStream stream, PrepareOptions options,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        string temp = Path.Combine(Path.GetTempPath(), $"stune-prepare-{Guid.NewGuid():N}.parquet");
        try
        {
            await using (var file = File.Create(temp)) await stream.CopyToAsync(file, ct);
            await using var seekable = File.OpenRead(temp);
            await foreach (var record in new ParquetSource(options.MaxRecordBytes).ReadAsync(seekable, ct))
                yield return record;
        }
        finally { File.Delete(temp); }
    }

    static void Work(ChannelReader<Batch> work, RecordProcessor processor, CancellationToken ct)
    {
        while (work.WaitToReadAsync(ct).AsTask().GetAwaiter().GetResult())
        {
            while (work.TryRead(out var batch))
            {
                try
                {
                    var results = new ProcessedRecord[batch.Records.Count];
                    processor.Process(batch.Records, results);
                    batch.Results = results;
                    batch.Done.SetResult();
                }
                catch (Exception ex)
                {
                    batch.Done.SetException(ex);
                    throw;
                }
            }
        }
    }

    static async Task ConsumeAsync(ChannelReader<Batch> ordered, IReadOnlyList<PrepareInput> inputs, PrepareOptions options, StatsCollector stats,
        ArtifactStreamWriter train, ArtifactStreamWriter validation, ArtifactStreamWriter rejects, CancellationToken ct)
    {
        var dedup = new Deduplicator(options.NearDuplicateThreshold);
        // Where each kept record came from (input index, line), by dedup id: the rejects name the copy kept.
        var origins = new ChunkedArray<(int File, long Line)>(1 << 14);
        await foreach (var batch in ordered.ReadAllAsync(ct))
        {
            await batch.Done.Task.WaitAsync(ct);
            foreach (var record in batch.Results)
            {
                if (record.Rejection is { } rejection)
                {
                    stats.Rejected(batch.File, record);
                    // A message may quote the input (a key name, a role); rejects.jsonl must not carry what the outputs may not.
                    var redacted = rejection with { Message = Redactor.Redact(rejection.Message).Text };
                    await rejects.WriteAsync(RecordJson.Reject(batch.Source, record.Line, redacted), ct);
                    continue;
                }
                var check = options.Deduplicate ? dedup.Check(record.Key, record.Signature) : default;
                if (check.Kind != DuplicateKind.None)
                {
                    bool near = check.Kind == DuplicateKind.Near;
                    stats.Duplicate(batch.File, record, near);
                    var (file, line) = origins[check.Original];
                    var reason = new Rejection(near ? RejectReason.NearDuplicate : RejectReason.Duplicate,
                        $"{(near ? "nearly the same as" : "same content as")} {inputs[file].Path}:{line}, which is kept");
                    await rejects.WriteAsync(RecordJson.Reject(batch.Source, record.Line, reason), ct);
                    continue;
                }
                if (options.Deduplicate) origins.Add([(batch.File, record.Line)]);
                bool isValidation = ContentKey.IsValidation(record.Key, options.Seed, options.ValidationFraction);
                stats.Kept(batch.File, record, isValidation);
                await (isValidation ? validation : train).WriteAsync(record.Json!, ct);
            }
        }
    }

    /// <summary>A hash of every input's name and content and of the options: equal versions mean equal outputs.</summary>
    static string DatasetVersion(IEnumerable<InputFile> inputs, PrepareOptions options)
    {
        var text = new StringBuilder(Generator).Append('\n');
        foreach (var input in inputs) text.Append(input.Path).Append('\t').Append(input.Sha256).Append('\n');
        text.Append(JsonSerializer.Serialize(options, StatsJson));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..16];
    }

    static async Task<OutputFile> WriteJsonAsync<T>(IArtifactStore store, string prefix, string name, T value, CancellationToken ct)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(value, StatsJson);
        bytes = [.. bytes, (byte)'\n'];
        await store.WriteAllBytesAsync(prefix + name, bytes, ct);
        return new OutputFile(name, bytes.Length, Convert.ToHexStringLower(SHA256.HashData(bytes)));
    }
}
