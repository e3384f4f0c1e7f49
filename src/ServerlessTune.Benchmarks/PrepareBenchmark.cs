using System.Diagnostics;
using System.Runtime;
using System.Text.Json;
using ServerlessTune.Core;
using ServerlessTune.Core.Data;
using ServerlessTune.Core.Storage;
using ServerlessTune.Core.Tokenization;

namespace ServerlessTune.Benchmarks;

public sealed record PrepareBenchmarkResult(
    long CorpusBytes, long Lines, int Cores,
    double EndToEndSeconds, double EndToEndMegabytesPerSecond, double EndToEndCoresUsed, long PeakWorkingSetBytes, long BaselineWorkingSetBytes,
    double GcPauseSeconds, long AllocatedBytes, int WarmUpPasses, double JitSeconds, long JitMethods,
    long TokenizerSampleBytes, int TokenizerWorkers, double TokenizerMegabytesPerSecondBefore, double TokenizerMegabytesPerSecondAfter, double TokenizerCoresUsed,
    long Kept, long Rejected, long Deduplicated, long Filtered, long Tokens)
{
    /// <summary>The limit: the tokenizer's throughput, the mean of the runs just before and just after preparing.</summary>
    public double TokenizerMegabytesPerSecond => (TokenizerMegabytesPerSecondBefore + TokenizerMegabytesPerSecondAfter) / 2;

    public double Ratio => EndToEndMegabytesPerSecond / TokenizerMegabytesPerSecond;
}

/// <summary>
/// `stune bench prepare`: end-to-end preparation throughput of a synthetic corpus, against the raw throughput of
/// the same tokenizer on the same text run the way preparation runs it: on every worker at once, one tokenizer
/// instance per worker, content strings already in memory (the work no preparation can avoid). Throughputs are in
/// corpus bytes per second, so the ratio says how close the whole pipeline comes to tokenizing alone on the same
/// cores. The tokenizer is timed just before and just after preparing and the two averaged: on a shared machine the
/// speed of a core drifts by 15 % or more within a minute, which a single measurement would put into the ratio.
/// Both sides run warm: the tokenizer is timed on its second pass, preparation after passes over the corpus's first
/// 4 MB until the JIT has settled, so neither pays the JIT's start-up (about 3 CPU seconds here, which a real run pays
/// once); the JIT time left inside the timed run is reported.
/// </summary>
public static class PrepareBenchmark
{
    /// <summary>Enough of the corpus to time the tokenizer steadily (about 1.5 s a pass) without holding the whole corpus as strings.</summary>
    const long TokenizerSampleLimit = 32L << 20;

    /// <summary>Enough records for preparation's hot methods to earn promotion in one warm-up pass.</summary>
    const long WarmUpBytes = 4L << 20;

    /// <summary>Warm-up passes at most, and the new methods that still count as settled (a pass compiles hundreds while it is not).</summary>
    const int MaxWarmUpPasses = 8, SettledMethods = 50;

    static readonly TimeSpan TieringPause = TimeSpan.FromMilliseconds(300);

    public static async Task<PrepareBenchmarkResult> RunAsync(int sizeMegabytes, string tokenizerSpec, int seed, Action<string> log, CancellationToken ct = default)
    {
        if (sizeMegabytes < 1) throw new UserInputException($"--size-mb must be at least 1 (got {sizeMegabytes})");
        string root = Directory.CreateTempSubdirectory("stune-bench-prepare-").FullName;
        try
        {
            log($"writing a {sizeMegabytes} MB synthetic corpus to {root}");
            string corpus = Path.Combine(root, "corpus", "support.jsonl");
            Directory.CreateDirectory(Path.GetDirectoryName(corpus)!);
            long lines = SyntheticCorpus.Write(corpus, (long)sizeMegabytes << 20, seed);
            long corpusBytes = new FileInfo(corpus).Length;

            var options = new PrepareOptions { Tokenizer = tokenizerSpec, Seed = seed, MaxTokens = 4096 };
            var store = new LocalFolderStore(root);
            var request = new PrepareRequest([new PrepareInput(store, "corpus/support.jsonl")], store, "prepared/bench/", options);
            // One tokenizer per worker, loaded before timing so the measurements exclude start-up (as preparation loads its own).
            int workers = DataPreparationService.WorkerCount;
            var tokenizers = Enumerable.Range(0, workers).Select(_ => TokenizerLoader.LoadUnshared(tokenizerSpec)).ToArray();
            log($"timing the tokenizer alone on the same text, {workers} worker(s) with one instance each");
            var (sampleBytes, texts) = SampleTexts(corpus);
            // The first pass runs partly in the JIT's quick tier; time a second one, in optimised code.
            TimeTokenizer(texts, sampleBytes, tokenizers);
            var (before, tokenizerCores) = TimeTokenizer(texts, sampleBytes, tokenizers);
            texts = [];
            // Preparation's own code is warmed the same way, on the corpus's first lines, so neither side is timed in the JIT's quick tier.
            log($"warming up on the corpus's first {WarmUpBytes >> 20} MB until the JIT settles");
            int warmUpPasses = await WarmUpAsync(WarmUpRequest(root, corpus, store, options), log, ct);
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            long baseline = ResetPeakWorkingSet();

            log($"preparing {corpusBytes / 1e6:F0} MB ({lines} lines) on {Environment.ProcessorCount} cores");
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var pause = GC.GetTotalPauseDuration();
            long allocated = GC.GetTotalAllocatedBytes();
            var jit = JitInfo.GetCompilationTime();
            long jitMethods = JitInfo.GetCompiledMethodCount();
            var clock = Stopwatch.StartNew();
            var stats = await DataPreparationService.RunAsync(request, new Progress(log, corpusBytes), ct);
            double seconds = clock.Elapsed.TotalSeconds;
            double jitSeconds = (JitInfo.GetCompilationTime() - jit).TotalSeconds;
            jitMethods = JitInfo.GetCompiledMethodCount() - jitMethods;
            // CPU seconds per wall second: shows whether the machine really gave the run its cores.
            double coresUsed = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds / seconds;
            double gcPause = (GC.GetTotalPauseDuration() - pause).TotalSeconds;
            allocated = GC.GetTotalAllocatedBytes() - allocated;
            long peak = PeakWorkingSet();

            log("timing the tokenizer alone again");
            (_, texts) = SampleTexts(corpus);
            var (after, _) = TimeTokenizer(texts, sampleBytes, tokenizers);
            return new PrepareBenchmarkResult(corpusBytes, lines, Environment.ProcessorCount, seconds, corpusBytes / 1e6 / seconds, coresUsed,
                peak, baseline, gcPause, allocated, warmUpPasses, jitSeconds, jitMethods, sampleBytes, workers, before, after, tokenizerCores,
                stats.Totals.Kept, stats.Totals.Rejected, stats.Totals.Deduplicated, stats.Totals.Filtered, stats.Tokens.All.Total);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>
    /// Prepares the warm-up request until a pass leaves the JIT nearly idle; returns the passes run. Tiered compilation
    /// promotes a hot method in the background and in two steps (instrumented, then optimised), each some time after
    /// the calls that earn it: after one 4 MB pass the hot methods were still in the quick tier, so the timed run started
    /// in unoptimised code and the JIT's own thread took about 3 CPU seconds of it (a tenth of the run, on two cores).
    /// </summary>
    static async Task<int> WarmUpAsync(PrepareRequest warmUp, Action<string> log, CancellationToken ct)
    {
        for (int pass = 1; ; pass++)
        {
            long compiled = JitInfo.GetCompiledMethodCount();
            await DataPreparationService.RunAsync(warmUp, null, ct);
            // The runtime waits about 100 ms without new quick-tier code before it counts calls for promotion.
            await Task.Delay(TieringPause, ct);
            compiled = JitInfo.GetCompiledMethodCount() - compiled;
            log($"  warm-up pass {pass}: {compiled} methods compiled");
            if (pass == MaxWarmUpPasses || compiled <= SettledMethods) return pass;
        }
    }

    /// <summary>A preparation of the corpus's first lines, into a prefix of its own.</summary>
    static PrepareRequest WarmUpRequest(string root, string corpus, LocalFolderStore store, PrepareOptions options)
    {
        const string warmUp = "warm-up/support.jsonl";
        Directory.CreateDirectory(Path.Combine(root, "warm-up"));
        long bytes = 0;
        File.WriteAllLines(Path.Combine(root, warmUp), File.ReadLines(corpus).TakeWhile(line => (bytes += line.Length + 1) <= WarmUpBytes));
        return new PrepareRequest([new PrepareInput(store, warmUp)], store, "prepared/warm-up/", options);
    }

    /// <summary>The message contents of the corpus's first lines, and the bytes of those lines.</summary>
    static (long Bytes, List<string> Texts) SampleTexts(string corpus)
    {
        var texts = new List<string>();
        long bytes = 0;
        foreach (string line in File.ReadLines(corpus))
        {
            if (bytes >= TokenizerSampleLimit) break;
            bytes += System.Text.Encoding.UTF8.GetByteCount(line) + 1;
            try
            {
                using var document = JsonDocument.Parse(line);
                foreach (var message in document.RootElement.GetProperty("messages").EnumerateArray())
                    texts.Add(message.GetProperty("content").GetString()!);
            }
            catch (JsonException) { /* the corpus's deliberately broken lines: the pipeline rejects them before tokenizing, too */ }
        }
        return (bytes, texts);
    }

    /// <summary>
    /// Corpus megabytes per second of tokenizing the sample's texts with every tokenizer at once, each on its own
    /// thread and its own share of the texts (interleaved, so each gets the same mix), and the cores that kept busy.
    /// Tokens are counted, not encoded into id arrays: preparation only counts (its sizing is CountTokens through the
    /// chat template), and building the ids allocates eight times as much (117 MB against 14 MB on 16.8 MB of the
    /// corpus), which would make the limit slower than the work it stands for.
    /// </summary>
    static (double MegabytesPerSecond, double CoresUsed) TimeTokenizer(List<string> texts, long sampleBytes, ITextTokenizer[] tokenizers)
    {
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var threads = tokenizers.Select((tokenizer, worker) => new Thread(() =>
        {
            long tokens = 0;
            for (int i = worker; i < texts.Count; i += tokenizers.Length) tokens += tokenizer.CountTokens(texts[i]);
            GC.KeepAlive(tokens);
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        double seconds = clock.Elapsed.TotalSeconds;
        return (sampleBytes / 1e6 / seconds, (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds / seconds);
    }

    /// <summary>
    /// Restarts the peak resident-set count at the current resident set (Linux: clear_refs 5), so the peak that
    /// follows is the preparation's and not the tokenizer sample's; returns the resident set it starts from.
    /// </summary>
    static long ResetPeakWorkingSet()
    {
        const string clearRefs = "/proc/self/clear_refs";
        if (File.Exists(clearRefs))
        {
            try { File.WriteAllText(clearRefs, "5"); }
            catch (IOException) { /* older kernels: the peak then includes the sample */ }
            catch (UnauthorizedAccessException) { /* likewise */ }
        }
        using var process = Process.GetCurrentProcess();
        return process.WorkingSet64;
    }

    /// <summary>The process's peak resident set (VmHWM) where /proc has it, else the runtime's peak working set.</summary>
    static long PeakWorkingSet()
    {
        const string status = "/proc/self/status";
        if (File.Exists(status))
            foreach (string line in File.ReadLines(status))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line[6..].Trim().Split(' ')[0]) * 1024;
        using var process = Process.GetCurrentProcess();
        return process.PeakWorkingSet64;
    }

    sealed class Progress(Action<string> log, long total) : IProgress<PrepareProgress>
    {
        readonly Stopwatch _clock = Stopwatch.StartNew();
        long _last = -5000;

        public void Report(PrepareProgress value)
        {
            long now = _clock.ElapsedMilliseconds;
            if (now - _last < 5000) return;
            _last = now;
            log($"  {100.0 * value.BytesRead / total:F0}%  {value.BytesRead / 1e6 / Math.Max(0.001, now / 1000.0):F1} MB/s  {value.Records} records");
        }
    }
}
