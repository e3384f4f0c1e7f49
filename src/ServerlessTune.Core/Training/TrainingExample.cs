namespace ServerlessTune.Core.Training;

/// <summary>A rendered conversation: token ids and, per token, whether the model is trained to predict it
/// (assistant content and end-of-turn of messages with weight 1).</summary>
public sealed record TrainingExample(string Source, int Line, int[] Ids, bool[] LossMask)
{
    /// <summary>Tokens that contribute to the loss (a token is predicted from the ones before it, so the first never is).</summary>
    public int TargetCount => LossMask.Skip(1).Count(m => m);
}
