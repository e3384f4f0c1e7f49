using ServerlessTune.Core.Storage;
using ServerlessTune.Core.Tokenization;

namespace ServerlessTune.Core.Training;

/// <summary>
/// The prepared train/validation records rendered as training sees them (<see cref="RecordRendering"/>). Every problem that
/// would only surface mid-run (no data, a conversation longer than the context, nothing to learn) is found
/// here, before the first step.
/// </summary>
public sealed record TrainingData(IReadOnlyList<TrainingExample> Train, IReadOnlyList<TrainingExample> Validation)
{
    public static TrainingData Load(string preparedDirectory, IChatTemplate template, ITextTokenizer tokenizer, int maxLength)
    {
        string trainPath = Path.Combine(preparedDirectory, PreparedPaths.TrainFile);
        var train = Encode(PreparedChatFile.Read(trainPath), template, tokenizer, maxLength);
        if (train.Count == 0) throw new UserInputException($"{trainPath}: no conversations to train on");
        if (train.All(e => e.TargetCount == 0))
            throw new UserInputException($"{trainPath}: no assistant message has weight 1, so there is nothing to learn");
        string validationPath = Path.Combine(preparedDirectory, PreparedPaths.ValidationFile);
        var validation = File.Exists(validationPath) ? Encode(PreparedChatFile.Read(validationPath), template, tokenizer, maxLength) : [];
        return new TrainingData(train, validation);
    }

    static List<TrainingExample> Encode(IReadOnlyList<ChatRecord> records, IChatTemplate template, ITextTokenizer tokenizer, int maxLength)
    {
        var examples = new List<TrainingExample>(records.Count);
        foreach (var record in records)
        {
            var encoding = RecordRendering.Encode(record, template, tokenizer);
            if (encoding.Ids.Length > maxLength)
                throw new UserInputException(
                    $"{record.Source}:{record.Line}: conversation is {encoding.Ids.Length} tokens, longer than the {maxLength} the model takes (its context, or --max-length); shorten it or re-run prepare with --max-tokens");
            examples.Add(new TrainingExample(record.Source, record.Line, encoding.Ids, encoding.AssistantMask));
        }
        return examples;
    }
}
