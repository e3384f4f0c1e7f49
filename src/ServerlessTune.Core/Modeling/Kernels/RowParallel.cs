namespace ServerlessTune.Core.Modeling.Kernels;

/// <summary>Work split into chunks of output rows; any thread may run any chunk.</summary>
internal abstract class RowJob
{
    public abstract void Run(int start, int end);
}

/// <summary>
/// Fork/join for the decode products, which last 5-500 microseconds each: a token runs about a hundred of them,
/// so the fork must cost less than a Task. Parked workers wake on an event that spins briefly before it
/// sleeps; chunks are claimed from a shared counter, so a worker that the OS does not schedule (the machine is
/// shared) only means the caller runs more chunks itself, never that the caller waits for it to start.
/// One product at a time uses the workers; a concurrent caller runs its product on its own thread.
/// </summary>
internal static class RowParallel
{
    const int ChunksPerThread = 4;
    static readonly object gate = new();
    static readonly List<Worker> workers = [];
    static RowJob? job;
    static int rows, chunk, nextChunk, chunks, pending;

    /// <summary>Runs rows [0, count) of <paramref name="work"/> on up to <paramref name="threads"/> threads (the caller's included).</summary>
    public static void For(int count, int threads, int rowAlignment, RowJob work)
    {
        if (threads <= 1 || count < 2 * rowAlignment * threads || !Monitor.TryEnter(gate))
        {
            work.Run(0, count);
            return;
        }
        try
        {
            while (workers.Count < threads - 1) workers.Add(new Worker());
            var size = (count + threads * ChunksPerThread - 1) / (threads * ChunksPerThread);
            (job, rows, chunk, nextChunk) = (work, count, (size + rowAlignment - 1) / rowAlignment * rowAlignment, 0);
            chunks = (rows + chunk - 1) / chunk;
            Volatile.Write(ref pending, threads - 1);
            for (int i = 0; i < threads - 1; i++) workers[i].Wake();
            RunChunks();
            var spin = new SpinWait();
            while (Volatile.Read(ref pending) > 0) spin.SpinOnce(sleep1Threshold: -1);
            job = null;
        }
        finally
        {
            Monitor.Exit(gate);
        }
    }

    static void RunChunks()
    {
        var work = job!;
        int c;
        while ((c = Interlocked.Increment(ref nextChunk) - 1) < chunks)
            work.Run(c * chunk, Math.Min(rows, (c + 1) * chunk));
    }

    sealed class Worker
    {
        readonly ManualResetEventSlim go = new(false, spinCount: 200);

        public Worker()
        {
            new Thread(Loop) { IsBackground = true, Name = "stune-kernel" }.Start();
        }

        public void Wake() => go.Set();

        void Loop()
        {
            while (true)
            {
                go.Wait();
                go.Reset();
                RunChunks();
                Interlocked.Decrement(ref pending);
            }
        }
    }
}
