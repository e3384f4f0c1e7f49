using ServerlessTune.Core.Modeling;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Training;

/// <summary>Mean next-token loss over every trained token of the validation set, and its perplexity.</summary>
public static class ValidationLoss
{
    public static (double Loss, double Perplexity) Compute(CausalLM model, IReadOnlyList<TrainingExample> examples, int batchSize, int padTokenId)
    {
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var _ = no_grad();
            double sum = 0;
            long targets = 0;
            for (int start = 0; start < examples.Count; start += batchSize)
            {
                using var batch = BatchCollator.Collate(examples.Skip(start).Take(batchSize).ToList(), padTokenId);
                using var scope = NewDisposeScope();
                sum += TokenLoss.Sum(model.forward(batch.InputIds, batch.AttentionMask), batch.Labels).item<float>();
                targets += batch.TargetTokens;
            }
            double loss = sum / Math.Max(1, targets);
            return (loss, Math.Exp(loss));
        }
        finally
        {
            model.train(wasTraining);
        }
    }
}
