using System.Buffers;
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
        int dim = (int)x.shape[^1];
        long rows = x.numel() / dim;
        float* xs = TensorMemory.Address<float>(x), ys = TensorMemory.Address<float>(y), w = TensorMemory.Address<float>(weight);
        var weights = new ReadOnlySpan<float>(w, dim);
        for (long r = 0; r < rows; r++)
        {
            var row = new ReadOnlySpan<float>(xs + r * dim, dim);
            var output = new Span<float>(ys + r * dim, dim);
            float scale = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares(row) / dim + (float)eps);
            TensorPrimitives.Multiply(row, scale, output);
            TensorPrimitives.Multiply(output, weights, output);
        }
        GC.KeepAlive(x);
        GC.KeepAlive(weight);
        return y;
    }

    /// <summary>
    /// x [B, H, T, D] rotated by cos/sin [B, 1, T, rotaryDim] on its first rotaryDim dims, the rest copied:
    /// rot * cos + rotate(rot) * sin, where rotate is rotate_half (-second half, first half) or, interleaved,
    /// rotate_every_two ((-x1, x0) per pair).
    /// </summary>
    public static Tensor Rotary(Tensor x, Tensor cos, Tensor sin, int rotaryDim, bool interleaved)
    {
        using var dense = x.is_contiguous() ? null : x.contiguous();
        x = dense ?? x;
        long batch = x.shape[0], heads = x.shape[1], length = x.shape[2];
        int dim = (int)x.shape[3], half = rotaryDim / 2;
        var y = empty_like(x);
        float* xs = TensorMemory.Address<float>(x), ys = TensorMemory.Address<float>(y), cs = TensorMemory.Address<float>(cos), ss = TensorMemory.Address<float>(sin);
        for (long b = 0; b < batch; b++)
        for (long h = 0; h < heads; h++)
        for (long t = 0; t < length; t++)
        {
            long at = ((b * heads + h) * length + t) * dim, table = (b * length + t) * rotaryDim;
            float* src = xs + at, dst = ys + at, c = cs + table, s = ss + table;
            if (interleaved)
                for (int i = 0; i < rotaryDim; i += 2)
                {
                    dst[i] = src[i] * c[i] + -src[i + 1] * s[i];
                    dst[i + 1] = src[i + 1] * c[i + 1] + src[i] * s[i + 1];
                }
            else
                for (int i = 0; i < half; i++)
                {
                    dst[i] = src[i] * c[i] + -src[i + half] * s[i];
                    dst[i + half] = src[i + half] * c[i + half] + src[i] * s[i + half];
                }
            for (int i = rotaryDim; i < dim; i++) dst[i] = src[i];
        }
        GC.KeepAlive(x);
        GC.KeepAlive(cos);
        GC.KeepAlive(sin);
        return y;
    }

    /// <summary>Whether one new position per row attends in .NET: q [B, H, 1, D], k and v [B, KV, L, D] views with a
    /// dense last dim (a slot cache's rows), a boolean mask [B or 1, 1, 1, L] or none.</summary>
    public static bool AcceptsAttention(Tensor q, Tensor k, Tensor v, Tensor? mask) =>
        q.shape[2] == 1 && Accepts(q) && Readable(k) && Readable(v) &&
        (mask is null || (mask.dtype == ScalarType.Bool && mask.is_contiguous() && mask.shape[^1] == k.shape[2] &&
                          mask.numel() == mask.shape[0] * k.shape[2] && (mask.shape[0] == 1 || mask.shape[0] == q.shape[0])));

    /// <summary>
    /// softmax(q k^T / sqrt(D)) v for one new position per row, query head h reading key/value head h / (H / KV)
    /// (grouped-query attention without repeating the cache). Returns [B, 1, H * D], the layout the output
    /// projection takes. Masked positions get no weight.
    /// </summary>
    public static Tensor Attention(Tensor q, Tensor k, Tensor v, Tensor? mask)
    {
        long batch = q.shape[0], heads = q.shape[1], kvHeads = k.shape[1], length = k.shape[2];
        int dim = (int)q.shape[3];
        long groups = heads / kvHeads;
        long[] qs = q.stride(), ks = k.stride(), vs = v.stride();
        var y = empty(batch, 1, heads * dim);
        float* qp = TensorMemory.Address<float>(q), kp = TensorMemory.Address<float>(k), vp = TensorMemory.Address<float>(v);
        float* yp = TensorMemory.Address<float>(y);
        bool* mp = mask is null ? null : TensorMemory.Address<bool>(mask);
        long maskRow = mask is not null && mask.shape[0] > 1 ? length : 0;
        float scale = 1f / MathF.Sqrt(dim);
        var scores = ArrayPool<float>.Shared.Rent((int)length);
        for (long b = 0; b < batch; b++)
        for (long h = 0; h < heads; h++)
        {
            float* query = qp + b * qs[0] + h * qs[1], output = yp + (b * heads + h) * dim;
            float* keys = kp + b * ks[0] + h / groups * ks[1], values = vp + b * vs[0] + h / groups * vs[1];
            bool* allowed = mp is null ? null : mp + b * maskRow;
            var weights = scores.AsSpan(0, (int)length);
            for (long l = 0; l < length; l++)
                weights[(int)l] = allowed is null || allowed[l]
                    ? TensorPrimitives.Dot(new ReadOnlySpan<float>(query, dim), new ReadOnlySpan<float>(keys + l * ks[2], dim)) * scale
                    : float.NegativeInfinity;
            var result = new Span<float>(output, dim);
            result.Clear();
            float max = TensorPrimitives.Max(weights);
            if (float.IsNegativeInfinity(max)) continue;
            TensorPrimitives.Subtract(weights, max, weights);
            TensorPrimitives.Exp(weights, weights);
            TensorPrimitives.Divide(weights, TensorPrimitives.Sum(weights), weights);
            for (long l = 0; l < length; l++)
                if (weights[(int)l] != 0)
                    TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(values + l * vs[2], dim), weights[(int)l], result, result);
        }
        ArrayPool<float>.Shared.Return(scores);
        GC.KeepAlive(q);
        GC.KeepAlive(k);
        GC.KeepAlive(v);
        GC.KeepAlive(mask);
        return y;
    }
}
