using ServerlessTune.Core.Modeling;
using ServerlessTune.Core.Tokenization;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Evaluation;

/// <summary>
/// Teacher-forced next-token figures of a model over rendered conversations: the NLL of every predicted
/// token (natural log, fp32 logits, sums in fp64) and whether the assistant's tokens were the model's top-1
/// choice. A token is predicted from the ones before it, so the first token of a conversation is never
/// counted, and a position counts as an assistant token when the token it predicts is one. Conversations
/// are batched with right padding and an attention mask, so padding changes no real token's figures.
/// </summary>
public static class LanguageModelScorer
{
    public static LanguageModelTotals Score(CausalLM model, IReadOnlyList<ChatEncoding> conversations, int batchSize, long padTokenId,
        CancellationToken cancellationToken = default)
    {
        if (batchSize < 1) throw new UserInputException($"batch size must be at least 1 (got {batchSize})");
        var wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            var totals = new LanguageModelTotals(0, 0, 0, 0, 0);
            for (var start = 0; start < conversations.Count; start += batchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var batch = conversations.Skip(start).Take(batchSize).Where(c => c.Ids.Length > 1).ToList();
                if (batch.Count > 0)
                    totals = totals.Add(ScoreBatch(model, batch, padTokenId));
            }
            return totals;
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    static LanguageModelTotals ScoreBatch(CausalLM model, IReadOnlyList<ChatEncoding> batch, long padTokenId)
    {
        using var scope = NewDisposeScope();
        var rows = batch.Count;
        var width = batch.Max(c => c.Ids.Length);
        var ids = new long[rows * width];
        var attention = new long[rows * width];
        // Per predicting position t (0 .. width-2): does it predict a real token, and an assistant token?
        var predicts = new bool[rows * (width - 1)];
        var predictsAssistant = new bool[rows * (width - 1)];
        Array.Fill(ids, padTokenId);
        for (var r = 0; r < rows; r++)
        {
            var conversation = batch[r];
            for (var t = 0; t < conversation.Ids.Length; t++)
            {
                ids[r * width + t] = conversation.Ids[t];
                attention[r * width + t] = 1;
                if (t == 0) continue;
                predicts[r * (width - 1) + t - 1] = true;
                predictsAssistant[r * (width - 1) + t - 1] = conversation.AssistantMask[t];
            }
        }

        var input = tensor(ids, rows, width);
        var logits = model.forward(input, tensor(attention, rows, width))[.., ..(width - 1), ..];
        var targets = input[.., 1..].unsqueeze(-1);
        var nll = -nn.functional.log_softmax(logits, -1).gather(-1, targets).squeeze(-1).to(float64);
        var correct = logits.argmax(-1).eq(targets.squeeze(-1));
        var all = tensor(predicts, rows, width - 1);
        var assistant = tensor(predictsAssistant, rows, width - 1);
        return new LanguageModelTotals(
            AssistantNllSum: nll.masked_select(assistant).sum().item<double>(),
            AssistantTokens: assistant.sum().item<long>(),
            AssistantTop1Correct: correct.logical_and(assistant).sum().item<long>(),
            AllNllSum: nll.masked_select(all).sum().item<double>(),
            AllTokens: all.sum().item<long>());
    }
}
