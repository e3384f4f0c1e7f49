using System.Runtime.CompilerServices;
using System.Buffers;
using System.Runtime.Intrinsics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using TorchSharp;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Modeling.Kernels;

/// <summary>
/// The norm, rotary and attention of a decode step in .NET (the vector loops are System.Numerics.Tensors'). At decode
/// each is a handful of torch ops over a few kilobytes, and a torch op costs microseconds of dispatch however small
/// its tensor, so per token these ops cost more than their arithmetic. Each computes the torch expression it
/// replaces in float32; sums (the norm's squares, attention's dot products and softmax) add in another order.
/// Only inference on small fp32 CPU tensors takes this path: training, prefill and other dtypes keep torch's ops
/// (and autograd).
/// </summary>
internal static unsafe class DecodeOps
{
    /// <summary>Elements up to which a tensor is "small": a decode batch's rows of a wide model.</summary>
    const long MaxElements = PackedWeight.MaxKernelRows * 16384;

    /// <summary>Whether <paramref name="x"/> (and the other operands) may take a .NET decode op: inference, small
    /// fp32 CPU tensors; <paramref name="x"/> may be a view whose last dim is dense (it is copied dense first), the
    /// others are contiguous.</summary>
    public static bool Accepts(Tensor x, params ReadOnlySpan<Tensor> others)
    {
        if (is_grad_enabled() || !OnCpuInFp32(x) || x.stride(-1) != 1 || x.numel() > MaxElements) return false;
        foreach (var t in others)
            if (!OnCpuInFp32(t) || !t.is_contiguous()) return false;
        return true;
    }

    static bool OnCpuInFp32(Tensor t) => t.device_type == DeviceType.CPU && t.dtype == ScalarType.Float32;

    // A cache of any length: attention's work grows with it the same in .NET as in torch.
    static bool Readable(Tensor t) => OnCpuInFp32(t) && t.stride(-1) == 1;

    /// <summary>weight * (x * rsqrt(mean(x^2) + eps)) over the last dim, as RMSNorm computes it in float32.</summary>
    public static Tensor RmsNorm(Tensor x, Tensor weight, double eps)
    {
        using var dense = x.is_contiguous() ? null : x.contiguous();
        x = dense ?? x;
        var y = empty_like(x);
        int dim = (int)x.size(-1);
        RmsNorm(TensorMemory.Address<float>(x), TensorMemory.Address<float>(weight), eps, (int)(x.numel() / dim), dim, TensorMemory.Address<float>(y));
        GC.KeepAlive(x);
        GC.KeepAlive(weight);
        return y;
    }

    /// <summary><see cref="RmsNorm(Tensor, Tensor, double)"/> of <paramref name="rows"/> dense rows into <paramref name="y"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RmsNorm(float* x, float* weight, double eps, int rows, int dim, float* y)
    {
        var weights = new ReadOnlySpan<float>(weight, dim);
        for (long r = 0; r < rows; r++)
        {
            var row = new ReadOnlySpan<float>(x + r * dim, dim);
            var output = new Span<float>(y + r * dim, dim);
            float scale = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares(row) / dim + (float)eps);
            TensorPrimitives.Multiply(row, scale, output);
            TensorPrimitives.Multiply(output, weights, output);
        }
    }

    /// <summary>
    /// x [B, H, T, D] rotated by cos/sin [B, 1, T, rotaryDim] on its first rotaryDim dims, the rest copied:
    /// rot * cos + rotate(rot) * sin, where rotate is rotate_half (-second half, first half) or, interleaved,
    /// rotate_every_two ((-x1, x0) per pair).
    /// </summary>
    public static Tensor Rotary(Tensor x, Tensor cos, Tensor sin, int rotaryDim, bool interleaved)
    {
        long batch = x.size(0), heads = x.size(1), length = x.size(2);
        int dim = (int)x.size(3);
        // A dense copy, rotated in place (contiguous() of a contiguous tensor would be the tensor itself).
        var y = x.is_contiguous() ? x.clone() : x.contiguous();
        float* ys = TensorMemory.Address<float>(y), cs = TensorMemory.Address<float>(cos), ss = TensorMemory.Address<float>(sin);
        for (long b = 0; b < batch; b++)
        for (long t = 0; t < length; t++)
        {
            long table = (b * length + t) * rotaryDim;
            for (long h = 0; h < heads; h++)
                Rotate(ys + ((b * heads + h) * length + t) * dim, cs + table, ss + table, rotaryDim, interleaved);
        }
        GC.KeepAlive(cos);
        GC.KeepAlive(sin);
        return y;
    }

    /// <summary>One head's first <paramref name="rotaryDim"/> values rotated in place by one position's cos/sin.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Rotate(float* x, float* cos, float* sin, int rotaryDim, bool interleaved)
    {
        int step = interleaved ? 2 : 1, pairs = rotaryDim / 2, other = interleaved ? 1 : pairs;
        for (int p = 0; p < pairs; p++)
        {
            int i = p * step, j = i + other;
            float a = x[i], b = x[j];
            x[i] = a * cos[i] + -b * sin[i];
            x[j] = b * cos[j] + a * sin[j];
        }
    }

    /// <summary>Whether one new position per row attends in .NET: q [B, H, 1, D], k and v [B, KV, L, D] views with a
    /// dense last dim (a slot cache's rows), a boolean mask [B or 1, 1, 1, L] or none.</summary>
    public static bool AcceptsAttention(Tensor q, Tensor k, Tensor v, Tensor? mask)
    {
        if (q.size(2) != 1 || !Accepts(q) || !Readable(k) || !Readable(v)) return false;
        if (mask is null) return true;
        long length = k.size(2), rows = mask.size(0);
        return mask.dtype == ScalarType.Bool && mask.is_contiguous() && mask.size(-1) == length &&
               mask.numel() == rows * length && (rows == 1 || rows == q.size(0));
    }

    /// <summary>
    /// softmax(q k^T / sqrt(D)) v for one new position per row, query head h reading key/value head h / (H / KV)
    /// (grouped-query attention without repeating the cache). Returns [B, 1, H * D], the layout the output
    /// projection takes. Masked positions get no weight.
    /// </summary>
    public static Tensor Attention(Tensor q, Tensor k, Tensor v, Tensor? mask)
    {
        long batch = q.size(0), heads = q.size(1), kvHeads = k.size(1), length = k.size(2);
        int dim = (int)q.size(3);
        long groups = heads / kvHeads;
        long[] qs = q.stride(), ks = k.stride(), vs = v.stride();
        var y = empty(batch, 1, heads * dim);
        float* qp = TensorMemory.Address<float>(q), kp = TensorMemory.Address<float>(k), vp = TensorMemory.Address<float>(v);
        float* yp = TensorMemory.Address<float>(y);
        bool* mp = mask is null ? null : TensorMemory.Address<bool>(mask);
        long maskRow = mask is not null && mask.size(0) > 1 ? length : 0;
        var scores = ArrayPool<float>.Shared.Rent((int)length);
        fixed (float* weights = scores)
            for (long b = 0; b < batch; b++)
            for (long h = 0; h < heads; h++)
                AttendHead(qp + b * qs[0] + h * qs[1], kp + b * ks[0] + h / groups * ks[1], (nint)ks[2], vp + b * vs[0] + h / groups * vs[1], (nint)vs[2],
                    mp is null ? null : mp + b * maskRow, 0, (int)length, dim, weights, yp + (b * heads + h) * dim);
        ArrayPool<float>.Shared.Return(scores);
        GC.KeepAlive(q);
        GC.KeepAlive(k);
        GC.KeepAlive(v);
        GC.KeepAlive(mask);
        return y;
    }

    /// <summary>
    /// One query head over cached positions [from, to) of its key/value head (rows <paramref name="keyStride"/> and
    /// <paramref name="valueStride"/> floats apart), positions whose <paramref name="allowed"/> entry is false
    /// excluded: softmax(q k^T / sqrt(D)) v into <paramref name="output"/> [D]; <paramref name="scores"/> holds to - from.
    /// All positions excluded gives zeros.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AttendHead(float* query, float* keys, nint keyStride, float* values, nint valueStride, bool* allowed,
        int from, int to, int dim, float* scores, float* output)
    {
        int n = to - from;
        Scores(query, keys + from * keyStride, keyStride, n, dim, 1f / MathF.Sqrt(dim), scores);
        float max = float.NegativeInfinity;
        for (int l = 0; l < n; l++)
        {
            if (allowed is not null && !allowed[from + l]) scores[l] = float.NegativeInfinity;
            max = MathF.Max(max, scores[l]);
        }
        var result = new Span<float>(output, dim);
        result.Clear();
        if (float.IsNegativeInfinity(max)) return;
        var weights = new Span<float>(scores, n);
        TensorPrimitives.Subtract(weights, max, weights);
        TensorPrimitives.Exp(weights, weights);
        TensorPrimitives.Divide(weights, TensorPrimitives.Sum(weights), weights);
        WeightedSum(weights, values + from * valueStride, valueStride, dim, output);
    }

    /// <summary>scores[l] = (q . keys[l]) * scale for n key rows; four rows at a time, so four independent FMA chains
    /// share each load of q.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Scores(float* q, float* keys, nint stride, int n, int dim, float scale, float* scores)
    {
        int l = 0;
        if (Vector256.IsHardwareAccelerated && dim % Vector256<float>.Count == 0)
            for (; l + 4 <= n; l += 4)
            {
                float* k0 = keys + l * stride, k1 = k0 + stride, k2 = k1 + stride, k3 = k2 + stride;
                Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
                for (int i = 0; i < dim; i += Vector256<float>.Count)
                {
                    var x = Vector256.Load(q + i);
                    a0 = Vector256.FusedMultiplyAdd(x, Vector256.Load(k0 + i), a0);
                    a1 = Vector256.FusedMultiplyAdd(x, Vector256.Load(k1 + i), a1);
                    a2 = Vector256.FusedMultiplyAdd(x, Vector256.Load(k2 + i), a2);
                    a3 = Vector256.FusedMultiplyAdd(x, Vector256.Load(k3 + i), a3);
                }
                scores[l] = Vector256.Sum(a0) * scale;
                scores[l + 1] = Vector256.Sum(a1) * scale;
                scores[l + 2] = Vector256.Sum(a2) * scale;
                scores[l + 3] = Vector256.Sum(a3) * scale;
            }
        for (; l < n; l++)
            scores[l] = TensorPrimitives.Dot(new ReadOnlySpan<float>(q, dim), new ReadOnlySpan<float>(keys + l * stride, dim)) * scale;
    }

    /// <summary>output [D] = sum over l of weights[l] * rows[l], rows <paramref name="stride"/> floats apart; eight
    /// output lanes at a time stay in registers across all rows, in four chains over alternate rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void WeightedSum(ReadOnlySpan<float> weights, float* rows, nint stride, int dim, float* output)
    {
        int d = 0, n = weights.Length;
        if (Vector256.IsHardwareAccelerated)
            for (; d + Vector256<float>.Count <= dim; d += Vector256<float>.Count)
            {
                Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
                float* row = rows + d;
                int l = 0;
                for (; l + 4 <= n; l += 4, row += 4 * stride)
                {
                    s0 = Vector256.FusedMultiplyAdd(Vector256.Create(weights[l]), Vector256.Load(row), s0);
                    s1 = Vector256.FusedMultiplyAdd(Vector256.Create(weights[l + 1]), Vector256.Load(row + stride), s1);
                    s2 = Vector256.FusedMultiplyAdd(Vector256.Create(weights[l + 2]), Vector256.Load(row + 2 * stride), s2);
                    s3 = Vector256.FusedMultiplyAdd(Vector256.Create(weights[l + 3]), Vector256.Load(row + 3 * stride), s3);
                }
                for (; l < n; l++, row += stride)
                    s0 = Vector256.FusedMultiplyAdd(Vector256.Create(weights[l]), Vector256.Load(row), s0);
                ((s0 + s1) + (s2 + s3)).Store(output + d);
            }
        for (; d < dim; d++)
        {
            float sum = 0;
            for (int l = 0; l < n; l++) sum += weights[l] * rows[l * stride + d];
            output[d] = sum;
        }
    }
}
