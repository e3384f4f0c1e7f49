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
/// The decode product: every output row of W is read once from memory for all rows of x (decode batch rows),
/// four output rows at a time so four independent FMA chains hide the FMA latency and x is loaded once per four
/// weight rows. The weights are widened to fp32 in registers, so a narrower format reads fewer bytes and
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
        int j = start;
        for (; j + 4 <= end; j += 4)
        {
            var w0 = o.Weight + j * stride;
            for (int r = 0; r < o.Rows; r++)
            {
                var x = o.X + (nint)r * o.InFeatures;
                Dot4<TRow, TMath>(w0, stride, x, o.InFeatures, out var s0, out var s1, out var s2, out var s3);
                var y = o.Y + (nint)r * o.OutFeatures + j;
                y[0] = Finish(o, j, s0);
                y[1] = Finish(o, j + 1, s1);
                y[2] = Finish(o, j + 2, s2);
                y[3] = Finish(o, j + 3, s3);
            }
        }
        for (; j < end; j++)
        {
            var w = o.Weight + j * stride;
            for (int r = 0; r < o.Rows; r++)
                o.Y[(nint)r * o.OutFeatures + j] = Finish(o, j, Dot<TRow, TMath>(w, o.X + (nint)r * o.InFeatures, o.InFeatures));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float Finish(in LinearOperands o, int j, float dot)
    {
        if (o.Scales != null) dot *= o.Scales[j];
        return o.Bias != null ? dot + o.Bias[j] : dot;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Dot4<TRow, TMath>(byte* w0, nint stride, float* x, int n, out float s0, out float s1, out float s2, out float s3)
        where TRow : struct, IWeightRow where TMath : struct, IVectorMath
    {
        byte* w1 = w0 + stride, w2 = w1 + stride, w3 = w2 + stride;
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        nint k = 0;
        for (; k + 8 <= n; k += 8)
        {
            var xv = Vector256.Load(x + k);
            a0 = TMath.MultiplyAdd(TMath.Load<TRow>(w0, k), xv, a0);
            a1 = TMath.MultiplyAdd(TMath.Load<TRow>(w1, k), xv, a1);
            a2 = TMath.MultiplyAdd(TMath.Load<TRow>(w2, k), xv, a2);
            a3 = TMath.MultiplyAdd(TMath.Load<TRow>(w3, k), xv, a3);
        }
        (s0, s1, s2, s3) = (Vector256.Sum(a0), Vector256.Sum(a1), Vector256.Sum(a2), Vector256.Sum(a3));
        for (; k < n; k++)
        {
            s0 += TRow.Scalar(w0, k) * x[k];
            s1 += TRow.Scalar(w1, k) * x[k];
            s2 += TRow.Scalar(w2, k) * x[k];
            s3 += TRow.Scalar(w3, k) * x[k];
        }
    }

    static float Dot<TRow, TMath>(byte* w, float* x, int n) where TRow : struct, IWeightRow where TMath : struct, IVectorMath
    {
        Vector256<float> a = default;
        nint k = 0;
        for (; k + 8 <= n; k += 8)
            a = TMath.MultiplyAdd(TMath.Load<TRow>(w, k), Vector256.Load(x + k), a);
        var s = Vector256.Sum(a);
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
