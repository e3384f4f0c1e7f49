using ServerlessTune.Core.Modeling;
using ServerlessTune.Core.Modeling.Layers;
using static TorchSharp.torch;
using static ServerlessTune.Core.Tests.Modeling.KvCacheTests;

namespace ServerlessTune.Core.Tests.Modeling;

public class FusedProjectionTests
{
    [Theory]
    [MemberData(nameof(ModelFixtures.TinyArchitectures), MemberType = typeof(ModelFixtures))]
    public void Fused_model_computes_the_same_logits_and_keeps_its_state_dict(string arch)
    {
        using var model = ModelFixtures.TinyModel(arch);
        model.eval();
        using var ids = randint(0, 97, [2, 12], dtype: int64, generator: new Generator(3, CPU));
        var before = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        using var noGrad = no_grad();
        using var separate = model.forward(ids);

        model.PrepareForDecoding();
        using var fused = model.forward(ids);
        Assert.True(MaxDiff(fused, separate) < 1e-5, $"{arch}: fused logits differ by {MaxDiff(fused, separate)}");
        var after = model.state_dict();
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        foreach (var (name, value) in before)
            Assert.True(value.allclose(after[name], rtol: 0, atol: 0), $"{arch}: {name} changed");
    }

    /// <summary>Two initialised projections of an 8-wide input, their fused product and an input.</summary>
    static (LinearLayer Q, LinearLayer K, FusedProjection Fused, Tensor X) QueryAndKey(bool hasBias)
    {
        var q = new LinearLayer(8, 8, hasBias, ScalarType.Float32);
        var k = new LinearLayer(8, 4, hasBias, ScalarType.Float32);
        foreach (var layer in new[] { q, k }) layer.Initialize(0.5, new Generator(1, CPU));
        return (q, k, FusedProjection.Create(q, k)!, randn(1, 3, 8, generator: new Generator(2, CPU)));
    }

    [Fact]
    public void Parts_become_views_of_the_fused_weight_so_in_place_updates_reach_it()
    {
        var (q, k, fused, x) = QueryAndKey(hasBias: true);
        using (no_grad())
        {
            k.Weight.add_(1.0);
            k.Bias!.add_(2.0);
            var outputs = fused.Forward(x);
            Assert.True(MaxDiff(outputs[0], q.forward(x)) < 1e-6);
            Assert.True(MaxDiff(outputs[1], k.forward(x)) < 1e-6);
        }
    }

    [Fact]
    public void With_gradients_on_each_part_gets_its_own_gradient()
    {
        var (q, k, fused, x) = QueryAndKey(hasBias: false);
        var outputs = fused.Forward(x);
        (outputs[0].sum() + outputs[1].sum() * 2).backward();
        Assert.NotNull(q.Weight.grad);
        Assert.NotNull(k.Weight.grad);
        using var expected = x.sum([0, 1]).unsqueeze(0).expand(4, 8) * 2;
        Assert.True(MaxDiff(k.Weight.grad!, expected) < 1e-5);
    }

    [Fact]
    public void Conv1d_and_lora_layers_are_not_fused()
    {
        using var conv = new LinearLayer(8, 8, hasBias: true, ScalarType.Float32, conv1d: true);
        using var plain = new LinearLayer(8, 8, hasBias: true, ScalarType.Float32);
        Assert.Null(FusedProjection.Create(conv, plain));
        using var adapted = new LinearLayer(8, 8, hasBias: true, ScalarType.Float32);
        adapted.AttachLora(2, 4, 0);
        Assert.Null(FusedProjection.Create(adapted, plain));
    }

    [Fact]
    public void Grouped_query_attention_over_a_mask_equals_repeating_keys_and_values()
    {
        var g = new Generator(5, CPU);
        using var q = randn(3, 4, 2, 8, generator: g);
        using var k = randn(3, 2, 6, 8, generator: g);
        using var v = randn(3, 2, 6, 8, generator: g);
        using var positions = zeros(3, 2, dtype: int64);
        // Each row attends over its own prefix (as rows of different lengths do in a batch).
        using var mask = (arange(6).view(1, 1, 1, 6) < tensor(new long[] { 6, 3, 5 }).view(3, 1, 1, 1)).expand(3, 1, 2, 6);
        var context = new AttentionContext(positions, mask, IsCausal: false, 0);
        using var grouped = ScaledDotProductAttention.Attend(q, k, v, context, cache: null, layer: 0, dropout: 0);
        using var repeated = nn.functional.scaled_dot_product_attention(q, k.repeat_interleave(2, dim: 1), v.repeat_interleave(2, dim: 1), mask)
            .transpose(1, 2).reshape(3, 2, -1);
        Assert.True(MaxDiff(grouped, repeated) < 1e-6, $"differ by {MaxDiff(grouped, repeated)}");
        var unmasked = context with { Mask = null };
        using var all = ScaledDotProductAttention.Attend(q, k, v, unmasked, cache: null, layer: 0, dropout: 0);
        using var allRepeated = nn.functional.scaled_dot_product_attention(q, k.repeat_interleave(2, dim: 1), v.repeat_interleave(2, dim: 1))
            .transpose(1, 2).reshape(3, 2, -1);
        Assert.True(MaxDiff(all, allRepeated) < 1e-6);
    }
}
