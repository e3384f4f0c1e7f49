using ServerlessTune.Core.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Tests.Training;

[Collection(GlobalRngCollection.Name)]
public class OptimizerAndCheckpointTests
{
    static List<(string Name, Parameter Parameter)> NewParameters(int seed)
    {
        var generator = new Generator((ulong)seed);
        return
        [
            ("layer.weight", new Parameter(randn(3, 4, generator: generator))),
            ("layer.bias", new Parameter(randn(3, generator: generator))),
        ];
    }

    /// <summary>One AdamW step on a fixed quadratic loss that depends on the step.</summary>
    static void Step(AdamW optimizer, List<(string Name, Parameter Parameter)> p, int step)
    {
        optimizer.zero_grad();
        using var target = full(3, step * 0.1f);
        using var x = ones(4);
        using var y = matmul(p[0].Parameter, x) + p[1].Parameter;
        using var loss = (y - target).pow(2).sum();
        loss.backward();
        OptimizerFactory.SetLearningRate(optimizer, LearningRateSchedule.At(LrScheduleKind.Cosine, 0.05, step, 1, 6));
        optimizer.step();
    }

    static TrainerState State(int step) => new() { Step = step, Epoch = 0, BatchInEpoch = step, RngState = "", SettingsFingerprint = "x" };

    [Fact]
    public void Weight_decay_shrinks_matrices_but_not_biases()
    {
        var p = NewParameters(1);
        var before = p.Select(t => t.Parameter.detach().clone()).ToList();
        var optimizer = OptimizerFactory.Create(p, learningRate: 0.1, weightDecay: 0.5);
        foreach (var (_, parameter) in p) parameter.grad = zeros_like(parameter);
        optimizer.step();
        Assert.True(allclose(p[0].Parameter, before[0] * (1 - 0.1 * 0.5), rtol: 1e-6, atol: 1e-7));
        Assert.Equal(before[1].data<float>().ToArray(), p[1].Parameter.data<float>().ToArray());
    }

    [Fact]
    public void Resuming_from_a_checkpoint_continues_bit_identically()
    {
        using var dir = new TempDir();
        var uninterrupted = NewParameters(5);
        var opt1 = OptimizerFactory.Create(uninterrupted, 0.05, 0.01);
        var checkpoints = new TrainingCheckpoints(dir.Path);
        for (int s = 0; s < 6; s++)
        {
            Step(opt1, uninterrupted, s);
            if (s == 2) checkpoints.Save(State(3), uninterrupted, opt1);
        }

        var resumed = NewParameters(99);
        var opt2 = OptimizerFactory.Create(resumed, 0.05, 0.01);
        var state = TrainingCheckpoints.Load(checkpoints.Latest()!, resumed, opt2);
        Assert.Equal(3, state.Step);
        for (int s = state.Step; s < 6; s++) Step(opt2, resumed, s);

        for (int i = 0; i < 2; i++)
            Assert.Equal(uninterrupted[i].Parameter.data<float>().ToArray(), resumed[i].Parameter.data<float>().ToArray());
    }

    [Fact]
    public void Keeps_the_last_two_complete_checkpoints_and_ignores_torn_ones()
    {
        using var dir = new TempDir();
        var p = NewParameters(1);
        var optimizer = OptimizerFactory.Create(p, 0.01, 0);
        var checkpoints = new TrainingCheckpoints(dir.Path);
        foreach (int step in new[] { 2, 4, 6 }) checkpoints.Save(State(step), p, optimizer);
        Assert.Equal(["step-4", "step-6"], Directory.GetDirectories(checkpoints.Directory).Select(Path.GetFileName).Order());

        // a kill while step-8 was being written leaves a folder without trainer_state.json
        Directory.CreateDirectory(Path.Combine(checkpoints.Directory, "step-8"));
        Assert.EndsWith("step-6", checkpoints.Latest());
    }

    [Fact]
    public void Loading_weights_of_another_shape_names_the_tensor()
    {
        using var dir = new TempDir();
        var p = NewParameters(1);
        var checkpoints = new TrainingCheckpoints(dir.Path);
        checkpoints.Save(State(1), p, OptimizerFactory.Create(p, 0.01, 0));
        List<(string, Parameter)> other = [("layer.weight", new Parameter(zeros(2, 4))), ("layer.bias", new Parameter(zeros(3)))];
        var ex = Assert.Throws<UserInputException>(() => TrainingCheckpoints.Load(checkpoints.Latest()!, other, OptimizerFactory.Create(other, 0.01, 0)));
        Assert.Contains("layer.weight has shape [3,4], the model needs [2,4]", ex.Message);
    }
}
