using System.Diagnostics;

namespace ServerlessTune.Core.Modeling.Kernels;

/// <summary>Work split into chunks of output rows; any thread may run any chunk.</summary>
internal abstract class RowJob
{
    public abstract void Run(int start, int end);
}

/// <summary>
/// Fork/join for the decode products, which last 5-500 microseconds each: a token runs about a hundred of them,
/// a few tens of microseconds apart, so the fork must cost less than waking a sleeping thread. After a product a
/// worker stays awake for <see cref="StayAwake"/>, yielding its core to anything else runnable, and only then
/// parks. Chunks are claimed from the product's own counter and the caller waits only for claimed chunks, so a
/// worker that is late or not scheduled (the machine is shared) means the caller runs more chunks itself, never
/// that it waits for the worker to arrive. One product at a time uses the workers; a concurrent caller runs its
/// product on its own thread.
/// </summary>
internal static class RowParallel
{
    const int ChunksPerThread = 4;

    /// <summary>
    /// The least weight bytes a chunk reads, where the work says how many bytes a row is: each chunk starts a new
    /// stream of reads from memory, which the prefetchers must learn again, so a small product (a layer's 256 KB to
    /// 1.4 MB in int8) gains more from two long chunks than from eight short ones. In a scratch harness of the 49M llama's
    /// 33 products on both cores here (medians of 60 interleaved passes), 1 MB took int8 from 4.76 to 4.41 ms a
    /// token and bf16 from 6.58 to 6.48; fp32 (1-103 MB products) did not move.
    /// </summary>
    const long MinChunkBytes = 1 << 20;
    static readonly TimeSpan StayAwake = TimeSpan.FromMilliseconds(0.3);
    static readonly object gate = new();
    static readonly List<Worker> workers = [];
    static Product? current;
    static long generation;

    /// <summary>Runs rows [0, count) of <paramref name="work"/> on up to <paramref name="threads"/> threads (the caller's included);
    /// <paramref name="rowBytes"/>, when known, is what one row reads (see <see cref="MinChunkBytes"/>).</summary>
    public static void For(int count, int threads, int rowAlignment, RowJob work, long rowBytes = 0)
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
            // Never fewer chunks than threads.
            if (rowBytes > 0) size = Math.Max(size, (int)Math.Min((MinChunkBytes + rowBytes - 1) / rowBytes, (count + threads - 1) / threads));
            var product = new Product(work, count, (size + rowAlignment - 1) / rowAlignment * rowAlignment);
            Volatile.Write(ref current, product);
            Interlocked.Increment(ref generation);
            for (int i = 0; i < threads - 1; i++) workers[i].Wake();
            product.RunChunks();
            var spin = new SpinWait();
            while (!product.Done) spin.SpinOnce(sleep1Threshold: -1);
            Volatile.Write(ref current, null);
        }
        finally
        {
            Monitor.Exit(gate);
        }
    }

    sealed class Product(RowJob work, int rows, int chunk)
    {
        readonly int chunks = (rows + chunk - 1) / chunk;
        int next, finished;

        public bool Done => Volatile.Read(ref finished) == chunks;

        public void RunChunks()
        {
            int c;
            while ((c = Interlocked.Increment(ref next) - 1) < chunks)
            {
                work.Run(c * chunk, Math.Min(rows, (c + 1) * chunk));
                Interlocked.Increment(ref finished);
            }
        }
    }

    sealed class Worker
    {
        readonly ManualResetEventSlim wake = new(false, spinCount: 0);
        long seen;
        int parked;

        public Worker()
        {
            new Thread(Loop) { IsBackground = true, Name = "stune-kernel" }.Start();
        }

        /// <summary>Called after <see cref="generation"/> moved: only a parked worker needs the event.</summary>
        public void Wake()
        {
            if (Volatile.Read(ref parked) == 1) wake.Set();
        }

        void Loop()
        {
            while (true)
            {
                WaitForProduct();
                Volatile.Read(ref current)?.RunChunks();
            }
        }

        void WaitForProduct()
        {
            var since = Stopwatch.GetTimestamp();
            var spin = new SpinWait();
            while (Volatile.Read(ref generation) == seen)
            {
                if (Stopwatch.GetElapsedTime(since) < StayAwake)
                {
                    spin.SpinOnce(sleep1Threshold: -1);
                    continue;
                }
                // Dekker with the caller: it moves generation, then reads parked; we set parked, then read
                // generation. Both are full fences, so at least one of us sees the other's write.
                wake.Reset();
                Interlocked.Exchange(ref parked, 1);
                if (Volatile.Read(ref generation) == seen) wake.Wait();
                Interlocked.Exchange(ref parked, 0);
                since = Stopwatch.GetTimestamp();
            }
            seen = Volatile.Read(ref generation);
        }
    }
}
