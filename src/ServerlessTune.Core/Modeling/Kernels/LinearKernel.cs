using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ServerlessTune.Core.Modeling.Kernels;

/// <summary>The operands of one y = x W^T (* row scale) + b over a few rows of x.</summary>
internal readonly unsafe struct LinearOperands(byte* weight, float* scales, float* bias, float* x, float* y, int inFeatures, int outFeatures, int rows)
{
    public readonly byte* Weight = weight;
    /// <summary>One per output row (int8), or null.</summary>
    public readonly float* Scales = scales;
    public readonly float* Bias = bias;
    public readonly float* X = x;
    public readonly float* Y = y;
    public readonly int InFeatures = inFeatures;
    public readonly int OutFeatures = outFeatures;
    public readonly int Rows = rows;
}

/// <summary>
/// The decode product: W is read once, row after row in memory order (one stream, which the hardware prefetcher
/// follows best: on the development machine 11 GB/s from DRAM on one thread against 7.6 for four rows read side by
/// side), each row against every row of x (decode batch rows), four x rows at a time so four independent FMA chains
/// hide the FMA latency. The weights are widened to fp32 in registers, so a narrower format reads fewer bytes and
/// computes in fp32 like the fp32 kernel. The decode kernels (here, in Int8Kernel, DecodeOps and GatedDecoderStep) are
/// compiled optimized at their first call: under tiering a freshly loaded model's first tokens ran quick-jitted and
/// instrumented copies of them (3.4 % of an int8 `bench generate`'s samples here).
/// </summary>
internal static unsafe class LinearKernel
{
    /// <summary>Tests turn this on to run the portable Vector256 path on a CPU that has AVX2 and FMA.</summary>
    internal static bool ForcePortable;

    public static bool UsesIntrinsics => Avx2.IsSupported && Fma.IsSupported && !ForcePortable;

    /// <summary>Output rows [start, end) of every row of x.</summary>
    public static void Run<TRow>(in LinearOperands o, int start, int end) where TRow : struct, IWeightRow
    {
        if (UsesIntrinsics) Run<TRow, Avx2Math>(o, start, end);
        else Run<TRow, PortableMath>(o, start, end);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Run<TRow, TMath>(in LinearOperands o, int start, int end) where TRow : struct, IWeightRow where TMath : struct, IVectorMath
    {
        nint stride = (nint)o.InFeatures * TRow.ElementSize;
        int n = o.InFeatures, j = start;
        // A batch of four or more rows is compute-bound: three weight rows against four x rows keep twelve FMA
        // chains going for seven loads (two rows against four, eight chains for six loads, measured about 1.25x
        // slower on the development machine at 16 rows).
        if (o.Rows >= 4)
        {
            float* sums = stackalloc float[12];
            int groups = o.Rows / 4;
            for (; j + 3 <= end; j += 3)
            {
                var w0 = o.Weight + j * stride;
                // The next three rows are prefetched while these compute, spread over the groups of x rows: the
                // weights stream from DRAM, and without it each triple's first group waits on its reads (1.35x on
                // the 50k-row head at 16 rows in a scratch harness here).
                var next = j + 6 <= end ? w0 + 3 * stride : null;
                int r = 0;
                for (; r + 4 <= o.Rows; r += 4)
                {
                    int g = r / 4, from = 3 * g / groups, to = 3 * (g + 1) / groups;
                    Dot3x4<TRow, TMath>(w0, stride, o.X + (nint)r * n, n, sums, next == null ? null : next + from * stride, to - from);
                    for (int i = 0; i < 4; i++)
                    {
                        var y = o.Y + (nint)(r + i) * o.OutFeatures + j;
                        for (int w = 0; w < 3; w++) y[w] = Finish(o, j + w, sums[4 * w + i]);
                    }
                }
                for (; r < o.Rows; r++)
                {
                    var x = o.X + (nint)r * n;
                    for (int w = 0; w < 3; w++)
                        o.Y[(nint)r * o.OutFeatures + j + w] = Finish(o, j + w, Dot<TRow, TMath>(w0 + w * stride, x, n));
                }
            }
        }
        for (; j < end; j++)
        {
            var w = o.Weight + j * stride;
            int r = 0;
            for (; r + 4 <= o.Rows; r += 4)
            {
                Dot4<TRow, TMath>(w, o.X + (nint)r * n, n, out var s0, out var s1, out var s2, out var s3);
                var y = o.Y + (nint)r * o.OutFeatures + j;
                y[0] = Finish(o, j, s0);
                y[o.OutFeatures] = Finish(o, j, s1);
                y[2 * o.OutFeatures] = Finish(o, j, s2);
                y[3 * o.OutFeatures] = Finish(o, j, s3);
            }
            for (; r < o.Rows; r++)
                o.Y[(nint)r * o.OutFeatures + j] = Finish(o, j, Dot<TRow, TMath>(w, o.X + (nint)r * n, n, o.Weight + o.OutFeatures * stride));
        }
    }

    /// <summary>
    /// How far ahead of the row being read the single-row product prefetches its weights. The narrow formats spend
    /// more instructions per byte than fp32, which leaves the hardware prefetcher behind: in a scratch harness of the
    /// 49M llama's products on both cores here, 2 KB ahead took bf16 from 0.66 to 0.70-0.73 of a plain read of the
    /// same bytes and int8 from 0.68-0.78 to 0.77-0.96 (medians of interleaved passes); fp32 was slower with it.
    /// </summary>
    internal const int PrefetchBytes = 2048;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float Finish(in LinearOperands o, int j, float dot)
    {
        if (o.Scales != null) dot *= o.Scales[j];
        return o.Bias != null ? dot + o.Bias[j] : dot;
    }

    /// <summary>One weight row against four rows of x: the row is loaded once per step for all four.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Dot4<TRow, TMath>(byte* w, float* x0, int n, out float s0, out float s1, out float s2, out float s3)
        where TRow : struct, IWeightRow where TMath : struct, IVectorMath
    {
        float* x1 = x0 + n, x2 = x1 + n, x3 = x2 + n;
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        nint k = 0;
        for (; k + 8 <= n; k += 8)
        {
            var wv = TMath.Load<TRow>(w, k);
            a0 = TMath.MultiplyAdd(wv, Vector256.Load(x0 + k), a0);
            a1 = TMath.MultiplyAdd(wv, Vector256.Load(x1 + k), a1);
            a2 = TMath.MultiplyAdd(wv, Vector256.Load(x2 + k), a2);
            a3 = TMath.MultiplyAdd(wv, Vector256.Load(x3 + k), a3);
        }
        (s0, s1, s2, s3) = (Vector256.Sum(a0), Vector256.Sum(a1), Vector256.Sum(a2), Vector256.Sum(a3));
        for (; k < n; k++)
        {
            var wk = TRow.Scalar(w, k);
            s0 += wk * x0[k];
            s1 += wk * x1[k];
            s2 += wk * x2[k];
            s3 += wk * x3[k];
        }
    }

    /// <summary>Three weight rows (<paramref name="stride"/> bytes apart) against four rows of x: sums[4 * w + i] is
    /// w_w . x_i, each summed in the order <see cref="Dot4"/> sums it; meanwhile <paramref name="fetchRows"/> rows from
    /// <paramref name="fetch"/> are prefetched.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Dot3x4<TRow, TMath>(byte* w0, nint stride, float* x0, int n, float* sums, byte* fetch, int fetchRows)
        where TRow : struct, IWeightRow where TMath : struct, IVectorMath
    {
        byte* w1 = w0 + stride, w2 = w1 + stride;
        float* x1 = x0 + n, x2 = x1 + n, x3 = x2 + n;
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector256<float> b0 = default, b1 = default, b2 = default, b3 = default;
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default;
        nint k = 0;
        for (; k + 8 <= n; k += 8)
        {
            // One prefetch per 64-byte line of each of the fetchRows rows at fetch.
            if (Sse.IsSupported && fetchRows > 0 && ((k * TRow.ElementSize) & 63) == 0)
                for (int f = 0; f < fetchRows; f++) Sse.Prefetch0(fetch + f * stride + k * TRow.ElementSize);
            var u = TMath.Load<TRow>(w0, k);
            var v = TMath.Load<TRow>(w1, k);
            var t = TMath.Load<TRow>(w2, k);
            var x = Vector256.Load(x0 + k);
            a0 = TMath.MultiplyAdd(u, x, a0);
            b0 = TMath.MultiplyAdd(v, x, b0);
            c0 = TMath.MultiplyAdd(t, x, c0);
            x = Vector256.Load(x1 + k);
            a1 = TMath.MultiplyAdd(u, x, a1);
            b1 = TMath.MultiplyAdd(v, x, b1);
            c1 = TMath.MultiplyAdd(t, x, c1);
            x = Vector256.Load(x2 + k);
            a2 = TMath.MultiplyAdd(u, x, a2);
            b2 = TMath.MultiplyAdd(v, x, b2);
            c2 = TMath.MultiplyAdd(t, x, c2);
            x = Vector256.Load(x3 + k);
            a3 = TMath.MultiplyAdd(u, x, a3);
            b3 = TMath.MultiplyAdd(v, x, b3);
            c3 = TMath.MultiplyAdd(t, x, c3);
        }
        (sums[0], sums[1], sums[2], sums[3]) = (Vector256.Sum(a0), Vector256.Sum(a1), Vector256.Sum(a2), Vector256.Sum(a3));
        (sums[4], sums[5], sums[6], sums[7]) = (Vector256.Sum(b0), Vector256.Sum(b1), Vector256.Sum(b2), Vector256.Sum(b3));
        (sums[8], sums[9], sums[10], sums[11]) = (Vector256.Sum(c0), Vector256.Sum(c1), Vector256.Sum(c2), Vector256.Sum(c3));
        for (; k < n; k++)
        {
            float u = TRow.Scalar(w0, k), v = TRow.Scalar(w1, k), t = TRow.Scalar(w2, k);
            for (int i = 0; i < 4; i++)
            {
                float xi = x0[i * n + k];
                sums[i] += u * xi;
                sums[4 + i] += v * xi;
                sums[8 + i] += t * xi;
            }
        }
    }

    /// <summary>One weight row against one row of x, four independent FMA chains over consecutive blocks; a narrow
    /// format also prefetches the weights <see cref="PrefetchBytes"/> ahead, below <paramref name="fetchEnd"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static float Dot<TRow, TMath>(byte* w, float* x, int n, byte* fetchEnd = null) where TRow : struct, IWeightRow where TMath : struct, IVectorMath
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        nint k = 0;
        for (; k + 32 <= n; k += 32)
        {
            if (TRow.ElementSize < sizeof(float) && Sse.IsSupported && ((k * TRow.ElementSize) & 63) == 0)
            {
                var ahead = w + k * TRow.ElementSize + PrefetchBytes;
                if (ahead < fetchEnd) Sse.Prefetch0(ahead);
            }
            a0 = TMath.MultiplyAdd(TMath.Load<TRow>(w, k), Vector256.Load(x + k), a0);
            a1 = TMath.MultiplyAdd(TMath.Load<TRow>(w, k + 8), Vector256.Load(x + k + 8), a1);
            a2 = TMath.MultiplyAdd(TMath.Load<TRow>(w, k + 16), Vector256.Load(x + k + 16), a2);
            a3 = TMath.MultiplyAdd(TMath.Load<TRow>(w, k + 24), Vector256.Load(x + k + 24), a3);
        }
        for (; k + 8 <= n; k += 8)
            a0 = TMath.MultiplyAdd(TMath.Load<TRow>(w, k), Vector256.Load(x + k), a0);
        var s = Vector256.Sum((a0 + a1) + (a2 + a3));
        for (; k < n; k++) s += TRow.Scalar(w, k) * x[k];
        return s;
    }
}

internal unsafe interface IVectorMath
{
    static abstract Vector256<float> Load<TRow>(byte* row, nint k) where TRow : struct, IWeightRow;
    static abstract Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c);
}

internal unsafe struct Avx2Math : IVectorMath
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load<TRow>(byte* row, nint k) where TRow : struct, IWeightRow => TRow.Load(row, k);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Fma.MultiplyAdd(a, b, c);
}

internal unsafe struct PortableMath : IVectorMath
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load<TRow>(byte* row, nint k) where TRow : struct, IWeightRow => TRow.LoadPortable(row, k);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => a * b + c;
}
