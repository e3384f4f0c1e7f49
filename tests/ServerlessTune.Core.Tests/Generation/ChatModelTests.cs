using ServerlessTune.Core.Chat;
using ServerlessTune.Core.Generation;
using ServerlessTune.Core.Modeling;
using ServerlessTune.Core.Modeling.Peft;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Tests.Generation;

public class ChatModelTests(TinyLlamaFolder folder) : IClassFixture<TinyLlamaFolder>
{
    static readonly GenerationOptions Greedy = new() { MaxNewTokens = 8 };

    static async Task<string> Reply(ChatSession session, string text)
    {
        var reply = "";
        await foreach (var delta in session.SendAsync(text)) reply += delta;
        return reply;
    }

    [Fact]
    public async Task A_chat_session_answers_from_the_whole_conversation_and_keeps_it()
    {
        using var model = ChatModel.Load(folder.Model);
        var session = new ChatSession(model, Greedy, "Be brief.");
        var first = await Reply(session, "hello");
        var second = await Reply(session, "and then?");

        Assert.Equal(["system", "user", "assistant", "user", "assistant"], session.History.Select(m => m.Role));
        Assert.Equal(first, session.History[2].Content);
        Assert.Equal(second, session.History[4].Content);
        var fromHistory = model.Generator.Generate([model.EncodeChat([.. session.History.Take(4)])], model.ForChat(Greedy))[0];
        Assert.Equal(fromHistory.Text, second);
        var alone = model.Generator.Generate([model.EncodeChat([.. session.History.Take(2)])], model.ForChat(Greedy))[0];
        Assert.Equal(alone.Text, first);
    }

    [Fact]
    public async Task A_reply_left_midway_leaves_no_half_exchange_in_the_history()
    {
        using var model = ChatModel.Load(folder.Model);
        var session = new ChatSession(model, Greedy with { MaxNewTokens = 30 });
        await foreach (var _ in session.SendAsync("hello")) break;
        Assert.Empty(session.History);
    }

    [Fact]
    public async Task When_the_history_outgrows_the_context_the_oldest_exchange_is_dropped()
    {
        using var model = ChatModel.Load(folder.Model);
        var session = new ChatSession(model, Greedy);
        var longMessage = string.Join(" ", Enumerable.Repeat("word", 150));
        await Reply(session, longMessage);
        await Reply(session, longMessage + " again");
        Assert.Equal(["user", "assistant"], session.History.Select(m => m.Role));
        Assert.EndsWith(" again", session.History[0].Content);
    }

    [Fact]
    public void An_adapter_is_merged_and_generates_what_the_unmerged_adapter_does()
    {
        var adapter = folder.NewFolder("adapter");
        using (var trained = Checkpoint.Load(folder.Model))
        {
            var parameters = LoraInjector.Attach(trained, ["q_proj", "v_proj"], rank: 4, alpha: 8, dropout: 0);
            using var generator = new Generator(11, CPU);
            using (no_grad())
                foreach (var (name, p) in parameters.Where(p => p.Name.Contains("lora_B")))
                    p.copy_(randn(p.shape, generator: generator) * 0.5);
            PeftAdapter.Save(trained, new PeftAdapterConfig
            {
                R = 4, LoraAlpha = 8, LoraDropout = 0, TargetModules = ["q_proj", "v_proj"], BaseModelNameOrPath = folder.Model,
            }, adapter);
        }
        var prompt = "Where is my order?";
        using var merged = ChatModel.Load(folder.Model, adapter);
        using var plain = ChatModel.Load(folder.Model);
        using var unmerged = Checkpoint.Load(folder.Model);
        PeftAdapter.Load(unmerged, adapter);
        var reference = new TextGenerator(unmerged, plain.Tokenizer, []);
        var options = Greedy with { MaxNewTokens = 12 };

        var withAdapter = new TextGenerator(merged.Generator.Model, merged.Tokenizer, []).Generate([merged.Tokenizer.EncodePlain(prompt)], options)[0];
        Assert.Equal(reference.Generate([plain.Tokenizer.EncodePlain(prompt)], options)[0].TokenIds, withAdapter.TokenIds);
        var without = new TextGenerator(plain.Generator.Model, plain.Tokenizer, []).Generate([plain.Tokenizer.EncodePlain(prompt)], options)[0];
        Assert.NotEqual(without.TokenIds, withAdapter.TokenIds);
        Assert.DoesNotContain(merged.Generator.Model.Projections(), p => p.Layer.HasLora);
    }

    [Fact]
    public void A_missing_adapter_folder_is_a_user_error_naming_it()
    {
        var missing = folder.NewFolder("no-such-adapter");
        var error = Assert.Throws<UserInputException>(() => ChatModel.Load(folder.Model, missing));
        Assert.Contains(missing, error.Message);
    }

    [Fact]
    public void Replies_end_at_the_templates_end_of_turn_and_at_every_eos()
    {
        using var model = ChatModel.Load(folder.Model);
        Assert.True(model.Tokenizer.TryGetSpecialTokenId("<|im_end|>", out var imEnd));
        Assert.Contains(imEnd, model.Template.StopTokenIds);
        Assert.Subset(model.Generator.EndTokenIds.ToHashSet(), model.Template.StopTokenIds.ToHashSet());
        Assert.Subset(model.Generator.EndTokenIds.ToHashSet(), model.Generator.Model.Config.EosTokenIds.ToHashSet());
        Assert.Contains(model.Tokenizer.EosTokenId!.Value, model.Generator.EndTokenIds);
    }
}
