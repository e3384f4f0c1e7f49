using static TorchSharp.torch;

namespace ServerlessTune.Core.Modeling.Kernels;

/// <summary>
/// A decode step's threads: its products run in the .NET kernel on the configured thread count, and the few
/// hundred small torch ops around them (norms, rotary, attention over a short cache, sampling) run on one thread,
/// where each would otherwise pay an OpenMP fork/join that costs more than the op (and far more on a machine whose
/// cores are shared). torch's thread count is per calling thread here (libgomp keeps it per OS thread), so
/// one engine's loop does not change another's.
/// </summary>
public readonly struct DecodeThreads : IDisposable
{
    [ThreadStatic] static int kernelThreads;
    readonly int torchThreads;

    DecodeThreads(int torchThreads) => this.torchThreads = torchThreads;

    /// <summary>The threads a product of the kernel runs on from this thread.</summary>
    internal static int ForKernel => kernelThreads > 0 ? kernelThreads : get_num_threads();

    /// <summary>Enters a step of <paramref name="model"/> over <paramref name="rows"/> rows. A model with products left on torch,
    /// or more rows than the kernel takes, keeps torch's threads for those matmuls.</summary>
    public static DecodeThreads Enter(CausalLM model, long rows)
    {
        int threads = get_num_threads();
        if (threads <= 1 || !model.DecodesInKernel || rows > PackedWeight.MaxKernelRows || kernelThreads > 0) return default;
        kernelThreads = threads;
        set_num_threads(1);
        return new DecodeThreads(threads);
    }

    public void Dispose()
    {
        if (torchThreads == 0) return;
        set_num_threads(torchThreads);
        kernelThreads = 0;
    }
}
