using ServerlessTune.Core.Generation;

namespace ServerlessTune.Core.Evaluation;

/// <summary>
/// Generates every suite case's answer in batches (left-padded prompts through <see cref="TextGenerator"/>).
/// Cases are batched in order of prompt length, so a batch wastes little on padding; the order depends only
/// on the suite and the tokenizer, so every model with the same tokenizer sees the same batches, and greedy
/// decoding gives the same answers on every run.
/// </summary>
public static class SuiteAnswerer
{
    /// <param name="onBatch">Called after each batch with (cases answered so far, cases in the suite, cases in this batch).</param>
    public static IReadOnlyDictionary<string, string> Answer(ChatModel model, EvalSuite suite, GenerationOptions options, int batchSize,
        Action<int, int, int>? onBatch = null, CancellationToken cancellationToken = default)
    {
        if (batchSize < 1) throw new UserInputException($"batch size must be at least 1 (got {batchSize})");
        var context = model.Generator.Model.Config.MaxPositions;
        var prompts = suite.Cases.Select(c =>
        {
            var ids = model.EncodeChat(c.Messages);
            if (ids.Length >= context)
                throw new UserInputException($"{suite.Source}: case '{c.Id}': the prompt is {ids.Length} tokens, leaving no room to answer in the model's context of {context}");
            return ids;
        }).ToList();
        var order = Enumerable.Range(0, prompts.Count).OrderBy(i => prompts[i].Length).ToList();
        var chatOptions = model.ForChat(options);
        var answers = new string[prompts.Count];
        for (var start = 0; start < order.Count; start += batchSize)
        {
            var batch = order.Skip(start).Take(batchSize).ToList();
            var results = model.Generator.Generate(batch.Select(i => prompts[i]).ToList(), chatOptions, cancellationToken: cancellationToken);
            for (var j = 0; j < batch.Count; j++)
                answers[batch[j]] = results[j].Text;
            onBatch?.Invoke(start + batch.Count, order.Count, batch.Count);
        }
        // Suite order, so the serialised dictionary reads like the suite.
        var byId = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < answers.Length; i++)
            byId[suite.Cases[i].Id] = answers[i];
        return byId;
    }
}
