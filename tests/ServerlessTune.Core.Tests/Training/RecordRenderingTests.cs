using ServerlessTune.Core.Storage;
using ServerlessTune.Core.Tokenization;
using ServerlessTune.Core.Training;

namespace ServerlessTune.Core.Tests.Training;

public class RecordRenderingTests
{
    [Fact]
    public void A_passage_trains_as_plain_text_with_every_token_in_the_loss_and_a_chat_through_its_template()
    {
        using var dir = new TempDir();
        CharTokenizerFolder.Write(dir.Path);
        File.WriteAllText(dir.File(PreparedPaths.TrainFile),
            """
            {"messages":[{"role":"assistant","content":"Routers stay ours."}],"kind":"passage"}
            {"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"}]}

            """);
        var tokenizer = TokenizerLoader.Load(dir.Path);
        var template = ChatTemplates.For(dir.Path, null);

        var data = TrainingData.Load(dir.Path, template, tokenizer, maxLength: 128);

        var passage = data.Train[0];
        Assert.Equal([.. "Routers stay ours."u8.ToArray().Select(b => (int)b), tokenizer.EosTokenId!.Value], passage.Ids);
        Assert.All(passage.LossMask, Assert.True);
        Assert.DoesNotContain(CharTokenizerFolder.ImStart, passage.Ids);
        var chat = data.Train[1];
        Assert.Equal(template.Encode([new("user", "Hi"), new("assistant", "Hello")], addGenerationPrompt: false).Ids, chat.Ids);
        Assert.Contains(false, chat.LossMask);
    }
}
