using System.Runtime.CompilerServices;
using System.Buffers;
using ServerlessTune.Core.Modeling.Layers;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using TorchSharp;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Modeling.Kernels;

/// <summary>An attention block's decode products: q, k and v as one product (rows q, then k, then v), then the output.</summary>
internal sealed record DecodeAttention(int Layer, int Heads, int KvHeads, int HeadDim, PackedWeight Qkv, Tensor? QkvBias, PackedWeight Output, Tensor? OutputBias);

/// <summary>A SiLU-gated MLP's decode products: gate and up as one product (rows gate, then up), then down.</summary>
internal sealed record DecodeMlp(PackedWeight GateUp, Tensor? GateUpBias, PackedWeight Down, Tensor? DownBias);

/// <summary>What <see cref="GatedDecoderStep"/> runs of one layer: its norms and its attention and MLP products.</summary>
internal sealed record DecodeLayer(RmsNorm InputNorm, DecodeAttention Attention, RmsNorm PostNorm, DecodeMlp Mlp);

/// <summary>
/// One decode step of a pre-norm rotary decoder layer with a SiLU-gated MLP (Llama, Qwen2, Mistral, Phi-3) in .NET:
/// x + attention(norm(x)), then + down(silu(gate) * up)(norm(x)), for one new position per row over a
/// <see cref="SlotKvCache"/>, which it appends to and reads in place. The torch path of the same layer is about fifty
/// torch ops (views, the cache append, rotary, residual adds, the activation), each a few microseconds of dispatch
/// and allocation for a few kilobytes of work: per token that cost as much as reading the weights. Here the only
/// torch call is the output's allocation; the products run in <see cref="LinearKernel"/>, attention runs over
/// (row, head) pairs on the kernel's threads, and the rest is <see cref="DecodeOps"/>' float32 arithmetic.
/// </summary>
internal static unsafe class GatedDecoderStep
{
    /// <summary>Whether this step runs for <paramref name="x"/> [B, 1, hidden]: inference in fp32 on the CPU, at most
    /// the kernel's rows, one new position per row of a slot cache, rotary tables in the context.</summary>
    public static bool Accepts(Tensor x, AttentionContext context, KvCache? cache, out SlotKvCache slots, out SlotKvCache.OneNewPosition rows)
    {
        slots = null!;
        rows = null!;
        if (cache is not SlotKvCache slotCache || slotCache.OneNewPositionPerRow is not { } step || is_grad_enabled()) return false;
        if (x.dim() != 3 || x.size(1) != 1 || x.size(0) != step.Pasts.Length || x.size(0) > PackedWeight.MaxKernelRows) return false;
        if (!Dense(x) || context is not { Rotary: not null, Cos: { } cos, Sin: { } sin } || !Dense(cos) || !Dense(sin) || cos.size(0) != x.size(0)) return false;
        if (slotCache.Layer(0).Keys.dtype != ScalarType.Float32) return false;
        (slots, rows) = (slotCache, step);
        return true;
    }

    static bool Dense(Tensor t) => t.device_type == DeviceType.CPU && t.dtype == ScalarType.Float32 && t.is_contiguous();

    public static Tensor Run(Tensor x, AttentionContext context, SlotKvCache cache, SlotKvCache.OneNewPosition rows, DecodeLayer layer)
    {
        var y = empty(x.size(0), 1, x.size(2));
        Step(TensorMemory.Address<float>(x), TensorMemory.Address<float>(y), TensorMemory.Address<float>(context.Cos!),
            TensorMemory.Address<float>(context.Sin!), context.Rotary!, cache, rows, layer);
        GC.KeepAlive(x);
        GC.KeepAlive(context);
        return y;
    }

    /// <summary>
    /// The layer on raw rows: <paramref name="ys"/> [B, hidden] = the layer of <paramref name="xs"/> [B, hidden] (not
    /// the same memory), row r rotated by <paramref name="cos"/> and <paramref name="sin"/> row r [rotaryDim].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Step(float* xs, float* ys, float* cos, float* sin, RotaryEmbedding rotary, SlotKvCache cache,
        SlotKvCache.OneNewPosition rows, DecodeLayer layer)
    {
        var (inputNorm, attention, postNorm, mlp) = layer;
        int batch = rows.Pasts.Length, hidden = attention.Output.OutFeatures, inner = mlp.Down.InFeatures;
        int qWidth = attention.Heads * attention.HeadDim, kvWidth = attention.KvHeads * attention.HeadDim, qkvWidth = qWidth + 2 * kvWidth;
        var (keys, values) = cache.Layer(attention.Layer);
        var scratch = ArrayPool<float>.Shared.Rent(batch * (2 * hidden + qkvWidth + qWidth + 3 * inner));
        fixed (float* start = scratch)
        {
            float* normed = start, qkv = normed + batch * hidden, heads = qkv + batch * qkvWidth, projected = heads + batch * qWidth;
            float* gateUp = projected + batch * hidden, gated = gateUp + batch * 2 * inner;
            int all = batch * hidden;

            DecodeOps.RmsNorm(xs, TensorMemory.Address<float>(inputNorm.Weight), inputNorm.Eps, batch, hidden, normed);
            attention.Qkv.Multiply(normed, batch, qkv, attention.Qkv.BiasAddress(attention.QkvBias));
            RotateAndCache(qkv, cos, sin, rotary, rows, attention, keys, values);
            var job = new HeadsJob(qkv, qkvWidth, heads, attention, rows, TensorMemory.Address<float>(keys), TensorMemory.Address<float>(values), keys.size(2));
            RowParallel.For(batch * attention.Heads, DecodeThreads.ForKernel, rowAlignment: 1, job);
            attention.Output.Multiply(heads, batch, projected, attention.Output.BiasAddress(attention.OutputBias));
            TensorPrimitives.Add(new ReadOnlySpan<float>(xs, all), new ReadOnlySpan<float>(projected, all), new Span<float>(ys, all));

            DecodeOps.RmsNorm(ys, TensorMemory.Address<float>(postNorm.Weight), postNorm.Eps, batch, hidden, normed);
            mlp.GateUp.Multiply(normed, batch, gateUp, mlp.GateUp.BiasAddress(mlp.GateUpBias));
            for (int r = 0; r < batch; r++)
                SiluGate(gateUp + r * 2 * inner, inner, gated + r * inner);
            mlp.Down.Multiply(gated, batch, projected, mlp.Down.BiasAddress(mlp.DownBias));
            TensorPrimitives.Add(new ReadOnlySpan<float>(ys, all), new ReadOnlySpan<float>(projected, all), new Span<float>(ys, all));
        }
        ArrayPool<float>.Shared.Return(scratch);
        GC.KeepAlive(keys);
        GC.KeepAlive(values);
        GC.KeepAlive(layer);
    }

    /// <summary>Rotates each row's q and k heads by its position's tables, then writes its k and v heads into its slot
    /// at its new position: what the torch path's rotary and cache append do.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void RotateAndCache(float* qkv, float* cos, float* sin, RotaryEmbedding rotary, SlotKvCache.OneNewPosition rows,
        DecodeAttention a, Tensor keys, Tensor values)
    {
        int rotaryDim = rotary.RotaryDim, dim = a.HeadDim, qWidth = a.Heads * dim, kvWidth = a.KvHeads * dim;
        float* keyCache = TensorMemory.Address<float>(keys), valueCache = TensorMemory.Address<float>(values);
        long positions = keys.size(2);
        for (int r = 0; r < rows.Pasts.Length; r++)
        {
            float* row = qkv + r * (qWidth + 2 * kvWidth), c = cos + r * rotaryDim, s = sin + r * rotaryDim;
            for (int h = 0; h < a.Heads + a.KvHeads; h++)
                DecodeOps.Rotate(row + h * dim, c, s, rotaryDim, rotary.Interleaved);
            long at = ((long)(rows.First + r) * a.KvHeads * positions + rows.Pasts[r]) * dim;
            for (int h = 0; h < a.KvHeads; h++)
            {
                long cached = at + h * positions * dim;
                new ReadOnlySpan<float>(row + qWidth + h * dim, dim).CopyTo(new Span<float>(keyCache + cached, dim));
                new ReadOnlySpan<float>(row + qWidth + kvWidth + h * dim, dim).CopyTo(new Span<float>(valueCache + cached, dim));
            }
        }
    }

    /// <summary>silu(gate) * up over one row, silu as torch computes it: x / (1 + exp(-x)).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void SiluGate(float* gateUp, int inner, float* output)
    {
        var gate = new ReadOnlySpan<float>(gateUp, inner);
        var up = new ReadOnlySpan<float>(gateUp + inner, inner);
        var result = new Span<float>(output, inner);
        TensorPrimitives.Negate(gate, result);
        TensorPrimitives.Exp(result, result);
        TensorPrimitives.Add(result, 1f, result);
        TensorPrimitives.Divide(gate, result, result);
        TensorPrimitives.Multiply(result, up, result);
    }

    /// <summary>Attention of (row, query head) pairs [start, end): row r's head h reads key/value head h / (H / KV) of
    /// its slot over the positions it may see.</summary>
    sealed class HeadsJob(float* qkv, int qkvWidth, float* output, DecodeAttention a, SlotKvCache.OneNewPosition rows,
        float* keys, float* values, long positions) : RowJob
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public override void Run(int start, int end)
        {
            int dim = a.HeadDim, groups = a.Heads / a.KvHeads;
            var scores = ArrayPool<float>.Shared.Rent((int)positions);
            fixed (float* weights = scores)
                for (int i = start; i < end; i++)
                {
                    int r = i / a.Heads, h = i % a.Heads;
                    long past = rows.Pasts[r];
                    int from = rows.Window is int w ? (int)Math.Max(0, past + 1 - w) : 0;
                    long head = ((long)(rows.First + r) * a.KvHeads + h / groups) * positions * dim;
                    DecodeOps.AttendHead(qkv + (long)r * qkvWidth + h * dim, keys + head, dim, values + head, dim, null,
                        from, (int)past + 1, dim, weights, output + (long)i * dim);
                }
            ArrayPool<float>.Shared.Return(scores);
        }
    }
}
