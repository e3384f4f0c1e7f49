using ServerlessTune.Core.Modeling;
using ServerlessTune.Core.Modeling.Kernels;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Tests.Modeling.Kernels;

/// <summary>A decode step runs torch on one thread and the kernel on the threads torch had, and gives them back.</summary>
public sealed class DecodeThreadsTests
{
    static CausalLM Prepared(string arch, TempDir root)
    {
        ModelInitializer.Run(arch, "tiny", root.File(arch), seed: 3);
        var model = Checkpoint.Load(root.File(arch));
        model.PrepareForDecoding();
        return model;
    }

    static void WithTorchThreads(int threads, Action body)
    {
        int before = get_num_threads();
        set_num_threads(threads);
        try { body(); }
        finally { set_num_threads(before); }
    }

    [Fact]
    public void A_step_of_a_model_decoding_in_the_kernel_gives_torch_one_thread_and_the_kernel_the_rest()
    {
        using var root = new TempDir();
        using var model = Prepared("llama", root);
        Assert.True(model.DecodesInKernel);
        WithTorchThreads(2, () =>
        {
            using (DecodeThreads.Enter(model, rows: 4))
            {
                Assert.Equal(1, get_num_threads());
                Assert.Equal(2, DecodeThreads.ForKernel);
                // A nested step (an engine step inside a generator's) changes nothing more.
                using (DecodeThreads.Enter(model, rows: 1)) Assert.Equal(1, get_num_threads());
                Assert.Equal(1, get_num_threads());
            }
            Assert.Equal(2, get_num_threads());
            Assert.Equal(2, DecodeThreads.ForKernel);
        });
    }

    [Fact]
    public void More_rows_than_the_kernel_takes_or_products_left_on_torch_keep_torch_threads()
    {
        using var root = new TempDir();
        using var llama = Prepared("llama", root);
        using var gpt2 = Prepared("gpt2", root);
        // GPT-2's Conv1D weights stay on torch in fp32: its matmuls need torch's threads.
        Assert.False(gpt2.DecodesInKernel);
        WithTorchThreads(2, () =>
        {
            using (DecodeThreads.Enter(llama, rows: PackedWeight.MaxKernelRows + 1)) Assert.Equal(2, get_num_threads());
            using (DecodeThreads.Enter(gpt2, rows: 1)) Assert.Equal(2, get_num_threads());
        });
    }
}
