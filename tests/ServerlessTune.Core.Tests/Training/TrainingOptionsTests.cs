using ServerlessTune.Core.Training;

namespace ServerlessTune.Core.Tests.Training;

public class TrainingOptionsTests
{
    [Fact]
    public void Config_file_keys_are_snake_case_flag_names_and_flags_override_them()
    {
        var file = TrainingOptions.Parse("""
            { "method": "full", "learning_rate": 0.001, "lora_targets": ["q_proj"], "lr_schedule": "linear", "max_steps": 7 }
            """, "tiny.json");
        var merged = file.With(new TrainingOptions { LearningRate = 0.01, Epochs = 2 });
        Assert.Equal(FineTuneMethod.Full, merged.Method);
        Assert.Equal(0.01, merged.LearningRate);
        Assert.Equal(2, merged.Epochs);
        Assert.Equal(7, merged.MaxSteps);
        Assert.Equal(LrScheduleKind.Linear, merged.LrSchedule);
        Assert.Equal(["q_proj"], merged.LoraTargets!);
    }

    [Fact]
    public void Unknown_key_names_the_file_line_and_key()
    {
        var ex = Assert.Throws<UserInputException>(() => TrainingOptions.Parse("{\n \"learning_rate\": 0.1,\n \"lerning_rate\": 2 }", "cfg.json"));
        Assert.StartsWith("cfg.json:3:", ex.Message);
        Assert.Contains("lerning_rate", ex.Message);
    }

    [Fact]
    public void Wrong_type_names_the_key()
    {
        var ex = Assert.Throws<UserInputException>(() => TrainingOptions.Parse("{ \"batch_size\": \"four\" }", "cfg.json"));
        Assert.Contains("batch_size", ex.Message);
    }

    [Fact]
    public void Round_trips_through_json()
    {
        var options = new TrainingOptions { Method = FineTuneMethod.Lora, LoraRank = 4, LoraTargets = ["c_attn"], Seed = 3 };
        Assert.Equal(options.ToJson(), TrainingOptions.Parse(options.ToJson(), "x").ToJson());
    }

    [Fact]
    public void Defaults_depend_on_method_and_architecture()
    {
        var lora = ResolvedTrainingOptions.Resolve(new TrainingOptions(), "gpt2");
        Assert.Equal(["c_attn"], lora.LoraTargets);
        Assert.Equal(2e-4, lora.LearningRate);
        Assert.Equal(32, lora.LoraAlpha);
        var full = ResolvedTrainingOptions.Resolve(new TrainingOptions { Method = FineTuneMethod.Full }, "llama");
        Assert.Equal(2e-5, full.LearningRate);
        Assert.Equal(["q_proj", "v_proj"], ResolvedTrainingOptions.Resolve(new TrainingOptions(), "llama").LoraTargets);
    }

    [Theory]
    [InlineData("{\"lora_rank\":0}", "--lora-rank 0: must be at least 1")]
    [InlineData("{\"learning_rate\":-0.1}", "--learning-rate -0.1: must be a positive number")]
    [InlineData("{\"batch_size\":0}", "--batch-size 0: must be at least 1")]
    [InlineData("{\"lora_dropout\":1.5}", "--lora-dropout 1.5: must be in [0, 1)")]
    [InlineData("{\"warmup_steps\":-1}", "--warmup-steps -1: must not be negative")]
    public void Out_of_range_values_fail_with_the_flag_name(string json, string message)
    {
        var ex = Assert.Throws<UserInputException>(() => ResolvedTrainingOptions.Resolve(TrainingOptions.Parse(json, "c"), "llama"));
        Assert.Equal(message, ex.Message);
    }

    [Fact]
    public void Full_fine_tuning_ignores_lora_rank()
    {
        var settings = ResolvedTrainingOptions.Resolve(new TrainingOptions { Method = FineTuneMethod.Full, LoraRank = 0 }, "llama");
        Assert.Equal(FineTuneMethod.Full, settings.Method);
    }
}
