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
/// computes in fp32 like the fp32 kernel.
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

    static void Run<TRow, TMath>(in LinearOperands o, int start, int end) where TRow : struct, IWeightRow where TMath : struct, IVectorMath
    {
        nint stride = (nint)o.InFeatures * TRow.ElementSize;
        int n = o.InFeatures, j = start;
        // A batch of four or more rows is compute-bound: two weight rows against four x rows keep eight FMA
        // chains going for six loads, where one weight row against four needs five loads for four.
        if (o.Rows >= 4)
        {
            float* sums = stackalloc float[8];
            for (; j + 2 <= end; j += 2)
            {
                var w0 = o.Weight + j * stride;
                int r = 0;
                for (; r + 4 <= o.Rows; r += 4)
                {
                    Dot2x4<TRow, TMath>(w0, w0 + stride, o.X + (nint)r * n, n, sums);
                    for (int i = 0; i < 4; i++)
                    {
                        var y = o.Y + (nint)(r + i) * o.OutFeatures + j;
                        y[0] = Finish(o, j, sums[i]);
                        y[1] = Finish(o, j + 1, sums[4 + i]);
                    }
                }
                for (; r < o.Rows; r++)
                {
                    var x = o.X + (nint)r * n;
                    o.Y[(nint)r * o.OutFeatures + j] = Finish(o, j, Dot<TRow, TMath>(w0, x, n));
                    o.Y[(nint)r * o.OutFeatures + j + 1] = Finish(o, j + 1, Dot<TRow, TMath>(w0 + stride, x, n));
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
                o.Y[(nint)r * o.OutFeatures + j] = Finish(o, j, Dot<TRow, TMath>(w, o.X + (nint)r * n, n));
        }
    }

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

    /// <summary>Two weight rows against four rows of x: sums[i] is w0 . x_i, sums[4 + i] is w1 . x_i, each summed
    /// in the order <see cref="Dot4"/> sums it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Dot2x4<TRow, TMath>(byte* w0, byte* w1, float* x0, int n, float* sums)
        where TRow : struct, IWeightRow where TMath : struct, IVectorMath
    {
        float* x1 = x0 + n, x2 = x1 + n, x3 = x2 + n;
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector256<float> b0 = default, b1 = default, b2 = default, b3 = default;
        nint k = 0;
        for (; k + 8 <= n; k += 8)
        {
            var u = TMath.Load<TRow>(w0, k);
            var v = TMath.Load<TRow>(w1, k);
            var x = Vector256.Load(x0 + k);
            a0 = TMath.MultiplyAdd(u, x, a0);
            b0 = TMath.MultiplyAdd(v, x, b0);
            x = Vector256.Load(x1 + k);
            a1 = TMath.MultiplyAdd(u, x, a1);
            b1 = TMath.MultiplyAdd(v, x, b1);
            x = Vector256.Load(x2 + k);
            a2 = TMath.MultiplyAdd(u, x, a2);
            b2 = TMath.MultiplyAdd(v, x, b2);
            x = Vector256.Load(x3 + k);
            a3 = TMath.MultiplyAdd(u, x, a3);
            b3 = TMath.MultiplyAdd(v, x, b3);
        }
        (sums[0], sums[1], sums[2], sums[3]) = (Vector256.Sum(a0), Vector256.Sum(a1), Vector256.Sum(a2), Vector256.Sum(a3));
        (sums[4], sums[5], sums[6], sums[7]) = (Vector256.Sum(b0), Vector256.Sum(b1), Vector256.Sum(b2), Vector256.Sum(b3));
        for (; k < n; k++)
        {
            float u = TRow.Scalar(w0, k), v = TRow.Scalar(w1, k);
            sums[0] += u * x0[k];
            sums[1] += u * x1[k];
            sums[2] += u * x2[k];
            sums[3] += u * x3[k];
            sums[4] += v * x0[k];
            sums[5] += v * x1[k];
            sums[6] += v * x2[k];
            sums[7] += v * x3[k];
        }
    }

    /// <summary>One weight row against one row of x, four independent FMA chains over consecutive blocks.</summary>
    static float Dot<TRow, TMath>(byte* w, float* x, int n) where TRow : struct, IWeightRow where TMath : struct, IVectorMath
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        nint k = 0;
        for (; k + 32 <= n; k += 32)
        {
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
