using System.Buffers;
using TorchSharp;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Modeling.Kernels;

/// <summary>
/// A projection's weight [out, in] as the decode kernel reads it, in one <see cref="WeightFormat"/>:
/// fp32 reads the parameter itself (no copy, so in-place updates are seen); bf16 holds the weight rounded to
/// nearest even; int8 holds round-to-nearest values with one symmetric scale per output row. Packing writes the
/// rounded values back into the fp32 parameter, so torch's matmul (prefill, many rows) and this kernel (decode,
/// few rows) compute with the same weights, and a tied embedding looks up the rows its head multiplies.
/// </summary>
public sealed unsafe class PackedWeight : IDisposable
{
    /// <summary>Rows of x up to which the kernel runs; above it a torch matmul (prefill) is faster.</summary>
    public const int MaxKernelRows = 16;

    readonly Tensor data;
    readonly Tensor? scales;
    readonly bool ownsData;

    PackedWeight(WeightFormat format, Tensor data, Tensor? scales, bool ownsData)
    {
        Format = format;
        this.data = data;
        this.scales = scales;
        this.ownsData = ownsData;
        OutFeatures = (int)data.shape[0];
        InFeatures = (int)data.shape[1];
    }

    public WeightFormat Format { get; }
    public int InFeatures { get; }
    public int OutFeatures { get; }

    /// <summary>What one product reads: the weights in this format, plus int8's scales.</summary>
    public long Bytes => data.numel() * data.element_size() + (scales?.numel() * sizeof(float) ?? 0);

    /// <summary>
    /// Packs <paramref name="weight"/> (fp32, [out, in], or [in, out] when <paramref name="transposed"/>: GPT-2's
    /// Conv1D) and rounds it in place to what the format holds. Null when the kernel cannot read it: fp32 of a
    /// transposed weight would need a second copy that training would leave stale, so it stays on torch.
    /// </summary>
    public static PackedWeight? Create(Tensor weight, WeightFormat format, bool transposed = false)
    {
        if (weight.dtype != ScalarType.Float32 || weight.device_type != DeviceType.CPU || weight.dim() != 2) return null;
        // The packed tensors outlive any inference scope, and the parameter must stay a normal tensor.
        using var normalMode = inference_mode(false);
        using var noGrad = no_grad();
        var rows = transposed ? weight.t() : weight;
        switch (format)
        {
            case WeightFormat.Fp32:
                return transposed || !weight.is_contiguous() ? null : new PackedWeight(format, weight, null, ownsData: false);
            case WeightFormat.Bf16:
            {
                // torch's float -> bfloat16 conversion rounds to nearest even.
                var bf16 = rows.to(ScalarType.BFloat16).contiguous().DetachFromDisposeScope();
                rows.copy_(bf16);
                return new PackedWeight(format, bf16, null, ownsData: true);
            }
            case WeightFormat.Int8:
            {
                using var scope = NewDisposeScope();
                var absMax = rows.abs().amax([1], keepdim: true);
                // An all-zero row gets scale 1 (its values are 0 either way) instead of a division by zero.
                var scale = where(absMax > 0, absMax / 127, ones_like(absMax));
                var q = (rows / scale).round().clamp(-127, 127).to(ScalarType.Int8).contiguous();
                rows.copy_(q.to(ScalarType.Float32) * scale);
                return new PackedWeight(format, q.MoveToOuterDisposeScope(), scale.reshape(-1).contiguous().MoveToOuterDisposeScope(), ownsData: true);
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(format), format, null);
        }
    }

    /// <summary>Whether <see cref="Forward"/> runs for this input: inference (no autograd), CPU fp32, few rows.</summary>
    public bool Accepts(Tensor x) =>
        !is_grad_enabled() && x.device_type == DeviceType.CPU && x.dtype == ScalarType.Float32 &&
        x.size(-1) == InFeatures && x.numel() / InFeatures <= MaxKernelRows;

    /// <summary>x [..., in] W^T + bias [out] -> [..., out], on torch's intra-op thread count.</summary>
    public Tensor Forward(Tensor x, Tensor? bias = null)
    {
        using var contiguous = x.is_contiguous() ? null : x.contiguous();
        var input = contiguous ?? x;
        var sizes = new long[x.dim()];
        for (int d = 0; d < sizes.Length - 1; d++) sizes[d] = x.size(d);
        sizes[^1] = OutFeatures;
        var y = empty(sizes, ScalarType.Float32);
        Multiply(TensorMemory.Address<float>(input), (int)(input.numel() / InFeatures), TensorMemory.Address<float>(y), BiasAddress(bias));
        GC.KeepAlive(input);
        GC.KeepAlive(bias);
        return y;
    }

    /// <summary>The address of a bias for <see cref="Multiply"/>: contiguous fp32 [out], or null for none.</summary>
    public float* BiasAddress(Tensor? bias)
    {
        if (bias is null) return null;
        if (bias.dtype != ScalarType.Float32 || !bias.is_contiguous() || bias.numel() != OutFeatures)
            throw new ArgumentException($"bias must be contiguous fp32 [{OutFeatures}]");
        return TensorMemory.Address<float>(bias);
    }

    /// <summary>y [rows, out] = x [rows, in] W^T + bias, dense rows; the caller keeps x, y and the bias alive.</summary>
    public void Multiply(float* x, int rows, float* y, float* bias)
    {
        if (Format == WeightFormat.Int8 && Int8Kernel.Supported)
        {
            MultiplyInt8(x, rows, y, bias);
            return;
        }
        var operands = new LinearOperands(TensorMemory.Address<byte>(data), scales is null ? null : TensorMemory.Address<float>(scales),
            bias, x, y, InFeatures, OutFeatures, rows);
        RowJob job = Format switch
        {
            WeightFormat.Fp32 => new Job<Fp32Row>(operands),
            WeightFormat.Bf16 => new Job<Bf16Row>(operands),
            _ => new Job<Int8Row>(operands),
        };
        RowParallel.For(OutFeatures, DecodeThreads.ForKernel, rowAlignment: 4, job, StreamedRowBytes(rows));
        // The kernel read the weights through raw pointers: keep them alive until it is done.
        GC.KeepAlive(data);
        GC.KeepAlive(scales);
    }

    /// <summary>What a weight row reads from memory when the product is bound by that (fewer than four rows of x); a
    /// larger batch is bound by its arithmetic, where more chunks balance the threads better, so 0 (no floor).</summary>
    long StreamedRowBytes(int rows) => rows < 4 ? Bytes / OutFeatures : 0;

    void MultiplyInt8(float* x, int rows, float* y, float* bias)
    {
        var quantized = ArrayPool<short>.Shared.Rent(rows * InFeatures);
        float* xScales = stackalloc float[rows];
        fixed (short* q = quantized)
        {
            Int8Kernel.Quantize(x, rows, InFeatures, q, xScales);
            var product = new LinearOperands(TensorMemory.Address<byte>(data), TensorMemory.Address<float>(scales!), bias, x, y, InFeatures, OutFeatures, rows);
            var operands = new Int8Operands(product, q, xScales);
            RowParallel.For(OutFeatures, DecodeThreads.ForKernel, rowAlignment: 4, new Int8Job(operands), StreamedRowBytes(rows));
        }
        ArrayPool<short>.Shared.Return(quantized);
        GC.KeepAlive(data);
        GC.KeepAlive(scales);
    }

    sealed class Int8Job(Int8Operands operands) : RowJob
    {
        public override void Run(int start, int end) => Int8Kernel.Run(operands, start, end);
    }

    public void Dispose()
    {
        if (ownsData) data.Dispose();
        scales?.Dispose();
    }

    sealed class Job<TRow>(LinearOperands operands) : RowJob where TRow : struct, IWeightRow
    {
        public override void Run(int start, int end) => LinearKernel.Run<TRow>(operands, start, end);
    }
}
