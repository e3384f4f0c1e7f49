using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ServerlessTune.Core.Modeling.Kernels;

/// <summary>An int8 product's operands (<see cref="LinearOperands"/>: the int8 weights, their row scales, bias, y) with x
/// rounded to int16, one scale per row of x: y = (w_q . x_q) * row scale * x scale + b.</summary>
internal readonly unsafe struct Int8Operands(LinearOperands product, short* x, float* xScales)
{
    public readonly LinearOperands Product = product;
    public readonly short* X = x;
    public readonly float* XScales = xScales;
}

/// <summary>
/// The int8 product on AVX2 in integers: each row of x is rounded to int16 with one scale (max |x| / 32767, so the
/// rounding is at most 1/65534 of the row's largest value: about a hundredth of what rounding the weights to int8
/// costs), and sixteen weights at a time are sign-extended to int16 and multiplied pairwise into int32 sums
/// (vpmaddwd), which are exact. Widening each weight to fp32 and using FMA, as the other formats do, spends three
/// instructions per eight weights; this spends three per sixteen, and int8 reads so few bytes that the instructions,
/// not the memory, set its speed. Sums are flushed to fp32 every <see cref="Block"/> elements so they cannot overflow.
/// </summary>
internal static unsafe class Int8Kernel
{
    /// <summary>Elements per exact int32 sum: every 16 elements add one pair (at most 2 * 127 * 32767) to each lane,
    /// whichever chain takes them, so 4096 elements add at most 256 pairs per lane: 2.13e9, below 2^31.</summary>
    const int Block = 4096;

    public static bool Supported => Avx2.IsSupported && !LinearKernel.ForcePortable;

    /// <summary>Rounds each of <paramref name="rows"/> rows of x to int16 with its own scale.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Quantize(float* x, int rows, int n, short* quantized, float* scales)
    {
        for (int r = 0; r < rows; r++)
        {
            var row = new ReadOnlySpan<float>(x + (nint)r * n, n);
            float max = MathF.Abs(System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(row));
            float scale = max > 0 ? max / short.MaxValue : 1, inverse = 1 / scale;
            short* q = quantized + (nint)r * n;
            for (int k = 0; k < n; k++) q[k] = (short)MathF.Round(row[k] * inverse);
            scales[r] = scale;
        }
    }

    /// <summary>Output rows [start, end) of every row of x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(in Int8Operands q, int start, int end)
    {
        ref readonly var o = ref q.Product;
        var weight = (sbyte*)o.Weight;
        int n = o.InFeatures, j = start;
        if (o.Rows >= 4)
        {
            float* sums = stackalloc float[8];
            for (; j + 2 <= end; j += 2)
            {
                var w0 = weight + (nint)j * n;
                // As the float kernel does: the next two rows fetched while these compute, spread over the x groups.
                var next = j + 4 <= end ? w0 + 2 * n : null;
                int groups = o.Rows / 4, r = 0;
                for (; r + 4 <= o.Rows; r += 4)
                {
                    int g = r / 4, from = 2 * g / groups, to = 2 * (g + 1) / groups;
                    Dot2x4(w0, n, q.X + (nint)r * n, sums, next == null ? null : next + (nint)from * n, to - from);
                    for (int i = 0; i < 4; i++)
                    {
                        var y = o.Y + (nint)(r + i) * o.OutFeatures + j;
                        y[0] = Finish(q, j, r + i, sums[i]);
                        y[1] = Finish(q, j + 1, r + i, sums[4 + i]);
                    }
                }
                for (; r < o.Rows; r++)
                    for (int w = 0; w < 2; w++)
                        o.Y[(nint)r * o.OutFeatures + j + w] = Finish(q, j + w, r, Dot(w0 + (nint)w * n, q.X + (nint)r * n, n));
            }
        }
        var fetchEnd = weight + (nint)o.OutFeatures * n;
        for (; j < end; j++)
            for (int r = 0; r < o.Rows; r++)
                o.Y[(nint)r * o.OutFeatures + j] = Finish(q, j, r, Dot(weight + (nint)j * n, q.X + (nint)r * n, n, fetchEnd));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float Finish(in Int8Operands q, int j, int row, float dot)
    {
        float y = dot * (q.Product.Scales[j] * q.XScales[row]);
        return q.Product.Bias != null ? y + q.Product.Bias[j] : y;
    }

    /// <summary>The lanes added in fp32: eight int32 lanes near their limit would overflow an int32 sum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float Sum(Vector256<int> lanes) => Vector256.Sum(Avx.ConvertToVector256Single(lanes));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<int> Products(sbyte* w, short* x) =>
        Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(w), Avx.LoadVector256(x));

    /// <summary>One weight row against one row of x: four chains of exact int32 sums over 64-element steps (one
    /// 64-byte line of weights, prefetched <see cref="LinearKernel.PrefetchBytes"/> ahead below <paramref name="fetchEnd"/>
    /// as the float kernel does), added in int32 once per block, which <see cref="Block"/> keeps exact: every 16
    /// elements add one pair to each lane whichever chain takes them. Against two chains over 32 elements with a sum
    /// per chain, a scratch harness on a 512-wide row gained 7 % in cache and 2 % from memory on one core.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static float Dot(sbyte* w, short* x, int n, sbyte* fetchEnd = null)
    {
        float total = 0;
        for (int b = 0; b < n; b += Block)
        {
            int end = Math.Min(n, b + Block), k = b;
            Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; k + 64 <= end; k += 64)
            {
                if (w + k + LinearKernel.PrefetchBytes < fetchEnd) Sse.Prefetch0(w + k + LinearKernel.PrefetchBytes);
                a0 = Avx2.Add(a0, Products(w + k, x + k));
                a1 = Avx2.Add(a1, Products(w + k + 16, x + k + 16));
                a2 = Avx2.Add(a2, Products(w + k + 32, x + k + 32));
                a3 = Avx2.Add(a3, Products(w + k + 48, x + k + 48));
            }
            for (; k + 16 <= end; k += 16)
                a0 = Avx2.Add(a0, Products(w + k, x + k));
            int tail = 0;
            for (; k < end; k++) tail += w[k] * x[k];
            total += Sum(Avx2.Add(Avx2.Add(a0, a1), Avx2.Add(a2, a3))) + tail;
        }
        return total;
    }

    /// <summary>Two weight rows against four rows of x: sums[i] is w0 . x_i, sums[4 + i] is w1 . x_i; meanwhile
    /// <paramref name="fetchRows"/> rows from <paramref name="fetch"/> are prefetched.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Dot2x4(sbyte* w0, int n, short* x0, float* sums, sbyte* fetch, int fetchRows)
    {
        sbyte* w1 = w0 + n;
        short* x1 = x0 + n, x2 = x1 + n, x3 = x2 + n;
        for (int i = 0; i < 8; i++) sums[i] = 0;
        for (int b = 0; b < n; b += Block)
        {
            int end = Math.Min(n, b + Block), k = b;
            Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default, c0 = default, c1 = default, c2 = default, c3 = default;
            for (; k + 16 <= end; k += 16)
            {
                if (fetchRows > 0 && (k & 63) == 0)
                    for (int f = 0; f < fetchRows; f++) Sse.Prefetch0(fetch + (nint)f * n + k);
                var u = Avx2.ConvertToVector256Int16(w0 + k);
                var v = Avx2.ConvertToVector256Int16(w1 + k);
                var x = Avx.LoadVector256(x0 + k);
                a0 = Avx2.Add(a0, Avx2.MultiplyAddAdjacent(u, x));
                c0 = Avx2.Add(c0, Avx2.MultiplyAddAdjacent(v, x));
                x = Avx.LoadVector256(x1 + k);
                a1 = Avx2.Add(a1, Avx2.MultiplyAddAdjacent(u, x));
                c1 = Avx2.Add(c1, Avx2.MultiplyAddAdjacent(v, x));
                x = Avx.LoadVector256(x2 + k);
                a2 = Avx2.Add(a2, Avx2.MultiplyAddAdjacent(u, x));
                c2 = Avx2.Add(c2, Avx2.MultiplyAddAdjacent(v, x));
                x = Avx.LoadVector256(x3 + k);
                a3 = Avx2.Add(a3, Avx2.MultiplyAddAdjacent(u, x));
                c3 = Avx2.Add(c3, Avx2.MultiplyAddAdjacent(v, x));
            }
            sums[0] += Sum(a0);
            sums[1] += Sum(a1);
            sums[2] += Sum(a2);
            sums[3] += Sum(a3);
            sums[4] += Sum(c0);
            sums[5] += Sum(c1);
            sums[6] += Sum(c2);
            sums[7] += Sum(c3);
            for (; k < end; k++)
                for (int i = 0; i < 4; i++)
                {
                    sums[i] += w0[k] * x0[(nint)i * n + k];
                    sums[4 + i] += w1[k] * x0[(nint)i * n + k];
                }
        }
    }
}
