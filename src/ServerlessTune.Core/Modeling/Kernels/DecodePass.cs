using System.Buffers;
using ServerlessTune.Core.Modeling.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Modeling.Kernels;

/// <summary>What a decode pass of a gated rotary model reads: the token table, every layer, the final norm and the head.</summary>
internal sealed record DecodeModel(EmbeddingLayer Embedding, DecodeLayer[] Layers, RmsNorm Norm, RotaryEmbedding Rotary,
    PackedWeight Head, Tensor? HeadBias)
{
    /// <summary>The model, or null when a part cannot run in the pass: a layer that cannot (null among <paramref name="layers"/>),
    /// a head not packed, a token table the pass cannot read row by row.</summary>
    public static DecodeModel? Of(EmbeddingLayer embedding, IEnumerable<DecodeLayer?> layers, RmsNorm norm, RotaryEmbedding rotary,
        (PackedWeight Weight, Tensor? Bias)? head)
    {
        if (head is not var (weight, bias) || embedding.Weight.dtype != ScalarType.Float32 || !embedding.Weight.is_contiguous()) return null;
        var steps = new List<DecodeLayer>();
        foreach (var layer in layers)
        {
            if (layer is null) return null;
            steps.Add(layer);
        }
        return new DecodeModel(embedding, [.. steps], norm, rotary, weight, bias);
    }
}

/// <summary>
/// A whole decode step of a Llama / Qwen2 / Mistral / Phi-3 model over a <see cref="SlotKvCache"/>, one new token per
/// row, token ids to next-token logits, in .NET: the embedding rows copied, each row's rotary tables read from the
/// model's position table, every layer's <see cref="GatedDecoderStep"/> on two buffers in turn, the final norm and the
/// head's product. With the layers in .NET, the torch ops around them (the cache's position tensors, a dozen ops of
/// rotary tables, the embedding, the norm, slicing the last position) were a tenth to a fifth of an int8 token; here
/// the logits' allocation is the only torch call. Numerically the same ops in the same order as the per-layer path.
/// </summary>
internal static unsafe class DecodePass
{
    /// <summary>Whether the pass runs for <paramref name="inputIds"/> [B, 1] over <paramref name="cache"/>: inference,
    /// fp32 on the CPU, at most the kernel's rows, the rows the cache has selected.</summary>
    public static bool Accepts(Tensor inputIds, KvCache? cache, CausalLM model, out SlotKvCache slots)
    {
        slots = null!;
        if (cache is not SlotKvCache slotCache || is_grad_enabled() || model.training || model.DType != ScalarType.Float32) return false;
        if (inputIds.dim() != 2 || inputIds.size(1) != 1 || inputIds.dtype != ScalarType.Int64 || inputIds.device_type != DeviceType.CPU) return false;
        if (inputIds.size(0) > PackedWeight.MaxKernelRows || slotCache.Layer(0).Keys.dtype != ScalarType.Float32) return false;
        slots = slotCache;
        return true;
    }

    /// <summary>Logits [B, vocab] float32 of the next token of every row; the cache grows by one position per row.</summary>
    public static Tensor Logits(Tensor inputIds, SlotKvCache cache, DecodeModel model, int? slidingWindow)
    {
        var table = model.Embedding.Weight;
        int batch = (int)inputIds.size(0), hidden = (int)table.size(1), vocab = (int)table.size(0), rotaryDim = model.Rotary.RotaryDim;
        using var dense = inputIds.is_contiguous() ? null : inputIds.contiguous();
        long* ids = TensorMemory.Address<long>(dense ?? inputIds);
        for (int r = 0; r < batch; r++)
            if (ids[r] < 0 || ids[r] >= vocab)
                throw new ArgumentOutOfRangeException(nameof(inputIds), ids[r], $"token id outside the embedding's {vocab} rows");
        var rows = cache.BeginOneEach(batch, slidingWindow);
        var positions = model.Rotary.Table(rows.Pasts.Max() + 1);
        var logits = empty(batch, model.Head.OutFeatures);
        var scratch = ArrayPool<float>.Shared.Rent(batch * (3 * hidden + 2 * rotaryDim));
        fixed (float* start = scratch)
        {
            float* x = start, y = x + batch * hidden, normed = y + batch * hidden, cos = normed + batch * hidden, sin = cos + batch * rotaryDim;
            float* embedding = TensorMemory.Address<float>(table), cosTable = TensorMemory.Address<float>(positions.Cos), sinTable = TensorMemory.Address<float>(positions.Sin);
            for (int r = 0; r < batch; r++)
            {
                Copy(embedding + ids[r] * hidden, x + r * hidden, hidden);
                Copy(cosTable + rows.Pasts[r] * rotaryDim, cos + r * rotaryDim, rotaryDim);
                Copy(sinTable + rows.Pasts[r] * rotaryDim, sin + r * rotaryDim, rotaryDim);
            }
            foreach (var layer in model.Layers)
            {
                GatedDecoderStep.Step(x, y, cos, sin, model.Rotary, cache, rows, layer);
                var output = y;
                y = x;
                x = output;
            }
            DecodeOps.RmsNorm(x, TensorMemory.Address<float>(model.Norm.Weight), model.Norm.Eps, batch, hidden, normed);
            model.Head.Multiply(normed, batch, TensorMemory.Address<float>(logits), model.Head.BiasAddress(model.HeadBias));
        }
        ArrayPool<float>.Shared.Return(scratch);
        GC.KeepAlive(inputIds);
        GC.KeepAlive(table);
        GC.KeepAlive(positions);
        GC.KeepAlive(model);
        return logits;
    }

    static void Copy(float* from, float* to, int count) => new ReadOnlySpan<float>(from, count).CopyTo(new Span<float>(to, count));
}
