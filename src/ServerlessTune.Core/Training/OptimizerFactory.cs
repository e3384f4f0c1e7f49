using TorchSharp;
using TorchSharp.Modules;

namespace ServerlessTune.Core.Training;

/// <summary>
/// AdamW (decoupled weight decay) over the trainable parameters in two groups: matrices decay, vectors
/// (norm scales, biases) do not, as in nanoGPT and the Transformers Trainer: shrinking a norm's scale or a
/// bias towards zero is not regularisation, it changes the function.
/// </summary>
public static class OptimizerFactory
{
    public const double Beta1 = 0.9, Beta2 = 0.999, Eps = 1e-8;

    public static AdamW Create(IReadOnlyList<(string Name, Parameter Parameter)> trainable, double learningRate, double weightDecay)
    {
        var decay = trainable.Where(t => t.Parameter.dim() >= 2).Select(t => t.Parameter).ToList();
        var noDecay = trainable.Where(t => t.Parameter.dim() < 2).Select(t => t.Parameter).ToList();
        var groups = new List<AdamW.ParamGroup>();
        if (decay.Count > 0) groups.Add(new AdamW.ParamGroup(decay, learningRate, Beta1, Beta2, Eps, weightDecay, false, false));
        if (noDecay.Count > 0) groups.Add(new AdamW.ParamGroup(noDecay, learningRate, Beta1, Beta2, Eps, 0.0, false, false));
        return torch.optim.AdamW(groups, learningRate, Beta1, Beta2, Eps, weightDecay, false, false);
    }

    public static void SetLearningRate(AdamW optimizer, double learningRate)
    {
        foreach (var group in optimizer.ParamGroups) group.LearningRate = learningRate;
    }
}
