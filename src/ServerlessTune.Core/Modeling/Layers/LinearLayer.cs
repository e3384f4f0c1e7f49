using ServerlessTune.Core.Modeling.Kernels;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Modeling.Layers;

/// <summary>
/// Every projection of every architecture: nn.Linear (weight [out, in]) or GPT-2's Conv1D (weight
/// [in, out], kept so checkpoints load by name and shape). LoRA attaches here as PEFT does it, with
/// children named lora_A / lora_B, so adapter state-dict names match PEFT's after its prefix.
/// </summary>
public sealed class LinearLayer : nn.Module<Tensor, Tensor>, IInitializable
{
    readonly bool conv1d;
    double loraScale;
    readonly Parameter weight;
    readonly Parameter? bias;
    Lora? lora;
    PackedWeight? packed;

    public LinearLayer(long inFeatures, long outFeatures, bool hasBias, ScalarType dtype, bool conv1d = false) : base(nameof(LinearLayer))
    {
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        this.conv1d = conv1d;
        weight = new Parameter(conv1d ? empty(inFeatures, outFeatures, dtype) : empty(outFeatures, inFeatures, dtype));
        register_parameter(nameof(weight), weight);
        if (hasBias)
        {
            bias = new Parameter(empty(outFeatures, dtype));
            register_parameter(nameof(bias), bias);
        }
    }

    public long InFeatures { get; }
    public long OutFeatures { get; }
    public Parameter Weight => weight;
    public Parameter? Bias => bias;
    public bool HasLora => lora is not null;
    /// <summary>GPT-2's [in, out] layout.</summary>
    public bool IsConv1D => conv1d;
    /// <summary>The weight as the decode kernel reads it, after <see cref="Pack"/>.</summary>
    public PackedWeight? Packed => packed;
    /// <summary>The packed product and the bias, for a decode step that calls the kernel itself; null with an adapter.</summary>
    internal (PackedWeight Weight, Tensor? Bias)? DecodeProduct => lora is null && packed is not null ? (packed, bias) : null;
    /// <summary>Set when a <see cref="FusedProjection"/> runs this layer's product at inference.</summary>
    public bool InFusedProduct { get; internal set; }

    /// <summary>For decoding: the weight in <paramref name="format"/> (rounded in place to it) for the .NET kernel.</summary>
    public void Pack(WeightFormat format)
    {
        packed?.Dispose();
        packed = PackedWeight.Create(weight, format, transposed: conv1d);
    }

    public void Initialize(double std, Generator generator)
    {
        using var noGrad = no_grad();
        weight.normal_(0, std, generator);
        bias?.zero_();
    }

    public override Tensor forward(Tensor x)
    {
        if (lora is null && packed is not null && packed.Accepts(x)) return packed.Forward(x, bias);
        using var scope = NewDisposeScope();
        var y = conv1d ? matmul(x, weight) : nn.functional.linear(x, weight);
        if (bias is not null) y = y + bias;
        if (lora is not null) y = y + lora.B.forward(lora.A.forward(lora.Dropout.forward(x))) * loraScale;
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Adds a LoRA adapter: A kaiming-uniform with a = sqrt 5 as PEFT does (uniform in +-1/sqrt(in)), B zeros,
    /// so the model is unchanged until trained. Pass a generator for a seeded, thread-independent init.
    /// </summary>
    public void AttachLora(int rank, double alpha, double dropout, Generator? generator = null)
    {
        if (lora is not null) throw new InvalidOperationException("a LoRA adapter is already attached");
        DropPacked();
        if (rank <= 0) throw new ArgumentOutOfRangeException(nameof(rank), rank, "LoRA rank must be positive");
        var dtype = weight.dtype;
        var a = nn.Linear(InFeatures, rank, hasBias: false, dtype: dtype);
        var b = nn.Linear(rank, OutFeatures, hasBias: false, dtype: dtype);
        using (no_grad())
        {
            var bound = 1 / Math.Sqrt(InFeatures);
            a.weight!.uniform_(-bound, bound, generator);
            b.weight!.zero_();
        }
        lora = new Lora(a, b, nn.Dropout(dropout));
        // New modules start in training mode; follow this layer so an eval model stays deterministic.
        lora.Dropout.train(training);
        loraScale = alpha / rank;
        register_module("lora_A", a);
        register_module("lora_B", b);
        register_module("lora_dropout", lora.Dropout);
    }

    /// <summary>Folds (alpha / r) * B A into the base weight and removes the adapter.</summary>
    public void MergeLora()
    {
        if (lora is null) throw new InvalidOperationException("no LoRA adapter is attached");
        DropPacked();
        using (no_grad())
        using (var scope = NewDisposeScope())
        {
            var delta = matmul(lora.B.weight!, lora.A.weight!) * loraScale;
            weight.add_(conv1d ? delta.t() : delta);
        }
        register_module("lora_A", null!);
        register_module("lora_B", null!);
        register_module("lora_dropout", null!);
        lora.A.Dispose();
        lora.B.Dispose();
        lora = null;
    }

    /// <summary>A changed weight makes a bf16/int8 copy stale; the fp32 product runs on torch until packed again.</summary>
    void DropPacked()
    {
        packed?.Dispose();
        packed = null;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) packed?.Dispose();
        base.Dispose(disposing);
    }

    sealed record Lora(Linear A, Linear B, Dropout Dropout);
}
