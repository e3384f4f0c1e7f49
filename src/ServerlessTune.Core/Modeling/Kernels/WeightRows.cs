using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ServerlessTune.Core.Modeling.Kernels;

/// <summary>
/// How eight consecutive weights of one row become eight fp32 lanes. One implementation per storage format, as
/// a struct, so the JIT compiles one specialised kernel per format with the load inlined.
/// </summary>
internal unsafe interface IWeightRow
{
    static abstract int ElementSize { get; }

    /// <summary>AVX2: eight weights at element <paramref name="k"/> of <paramref name="row"/>.</summary>
    static abstract Vector256<float> Load(byte* row, nint k);

    /// <summary>The same without x86 intrinsics (any CPU with 256-bit or emulated vectors).</summary>
    static abstract Vector256<float> LoadPortable(byte* row, nint k);

    static abstract float Scalar(byte* row, nint k);
}

internal unsafe struct Fp32Row : IWeightRow
{
    public static int ElementSize => sizeof(float);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load(byte* row, nint k) => Avx.LoadVector256((float*)row + k);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LoadPortable(byte* row, nint k) => Vector256.Load((float*)row + k);

    public static float Scalar(byte* row, nint k) => ((float*)row)[k];
}

/// <summary>bf16 is the top half of an fp32: widening to 32 bits and shifting left by 16 is exact.</summary>
internal unsafe struct Bf16Row : IWeightRow
{
    public static int ElementSize => sizeof(ushort);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load(byte* row, nint k) =>
        Avx2.ShiftLeftLogical(Avx2.ConvertToVector256Int32((ushort*)row + k), 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LoadPortable(byte* row, nint k)
    {
        var (low, high) = Vector128.Widen(Vector128.Load((ushort*)row + k));
        return Vector256.ShiftLeft(Vector256.Create(low, high), 16).AsSingle();
    }

    public static float Scalar(byte* row, nint k) => BitConverter.UInt32BitsToSingle((uint)((ushort*)row)[k] << 16);
}

/// <summary>int8 sign-extended to int32 and converted to fp32 (exact); the row's scale is applied once to the dot.</summary>
internal unsafe struct Int8Row : IWeightRow
{
    public static int ElementSize => sizeof(sbyte);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load(byte* row, nint k) =>
        Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32((sbyte*)row + k));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LoadPortable(byte* row, nint k)
    {
        var (low, high) = Vector64.Widen(Vector64.Load((sbyte*)row + k));
        var (a, b) = Vector128.Widen(Vector128.Create(low, high));
        return Vector256.ConvertToSingle(Vector256.Create(a, b));
    }

    public static float Scalar(byte* row, nint k) => ((sbyte*)row)[k];
}
