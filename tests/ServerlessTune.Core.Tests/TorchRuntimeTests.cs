using TorchSharp;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Tests;

/// <summary>The native runtime loads (patched where the system libstdc++ is old) and computes.</summary>
public class TorchRuntimeTests
{
    [Fact]
    public void Matmul_matches_hand_computed_product()
    {
        using var a = tensor(new float[] { 1, 2, 3, 4 }, 2, 2);
        using var b = tensor(new float[] { 5, 6, 7, 8 }, 2, 2);
        using var c = matmul(a, b);
        Assert.Equal(new float[] { 19, 22, 43, 50 }, c.data<float>().ToArray());
    }

    [Fact]
    public void Backward_gives_analytic_gradient()
    {
        // y = sum(x^2 * w) => dy/dx = 2 x w
        using var x = tensor(new float[] { 1, -2, 3 }, requires_grad: true);
        using var w = tensor(new float[] { 0.5f, 2, -1 });
        using var y = (x.pow(2) * w).sum();
        y.backward();
        Assert.Equal(new float[] { 1, -8, -6 }, x.grad!.data<float>().ToArray());
    }
}
