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
        int n = o.InFeatures;
        for (int j = start; j < end; j++)
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
