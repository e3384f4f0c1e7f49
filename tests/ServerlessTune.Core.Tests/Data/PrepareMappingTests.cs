using System.Text.Json;
using ServerlessTune.Core.Data;
using ServerlessTune.Core.Data.Mapping;
using ServerlessTune.Core.PipelineConfig;

namespace ServerlessTune.Core.Tests.Data;

/// <summary>
/// The conventions public datasets come in, each generated here with its real headers and keys, through the real
/// service: which fields become which role, what stats.json says about it, and what is refused.
/// </summary>
public sealed class PrepareMappingTests : IDisposable
{
    readonly PrepareHarness _h = new();
    public void Dispose() => _h.Dispose();

    static PrepareOptions NoValidation => new() { ValidationFraction = 0 };

    static List<(string Role, string Content)> Messages(JsonElement record) => record.GetProperty("messages").EnumerateArray()
        .Select(m => (m.GetProperty("role").GetString()!, m.GetProperty("content").GetString()!)).ToList();

    static string Csv(params string[] rows) => string.Join("\n", rows) + "\n";

    /// <summary>Prepares one generated table; its outcome and the mapping its header and rows got.</summary>
    async Task<(PrepareOutcome Outcome, RecordMapping Mapping)> PrepareTable(string name, params string[] rows)
    {
        var outcome = await _h.RunAsync(NoValidation, paths: _h.AddText(name, Csv(rows)));
        return (outcome, outcome.Stats.Files[0].Mapping!);
    }

    [Fact]
    public async Task A_bitext_style_table_maps_instruction_and_response_and_keeps_flags_category_and_intent_out()
    {
        var (outcome, mapping) = await PrepareTable("bitext.csv",
            "flags,instruction,category,intent,response",
            "B,question about cancelling order {{Order Number}},ORDER,cancel_order,\"I can help you cancel order {{Order Number}}. Open order {{Order Number}} and press Cancel.\"",
            "BQZ,i need help to track my parcel,SHIPPING,track_order,\"Open Orders and press Track next to the parcel.\"",
            "BL,how can I get a refund,REFUND,get_refund,\"Refunds go back to the card you paid with within five days.\"");

        Assert.Equal(MappingKind.Columns, mapping.Kind);
        Assert.Equal(("instruction", "response"), (mapping.User, mapping.Assistant));
        Assert.Equal(new[] { "flags", "category", "intent" }, mapping.Metadata);
        Assert.Equal(("user", "question about cancelling order {{Order Number}}"), Messages(outcome.Train[0])[0]);
        Assert.Equal(3, outcome.Train.Count);
        var placeholders = outcome.Stats.Stages.Placeholders;
        Assert.Equal((1L, 2L, "keep"), (placeholders.Records, placeholders.Occurrences, placeholders.Policy));
        Assert.Equal(2, placeholders.Top["{{Order Number}}"]);
    }

    [Fact]
    public async Task A_column_with_one_value_in_every_row_is_never_the_question()
    {
        // The dataset: the question in instruction, beside a context that says the same thing on every row.
        var (outcome, mapping) = await PrepareTable("support.csv",
            "context,instruction,response",
            "Customer support,How do I reset my password?,Use the Forgot password link on the sign-in page.",
            "Customer support,Can I change my delivery address?,\"Yes, until the order ships: open the order and edit the address.\"",
            "Customer support,Do you ship abroad?,We ship to every EU country.");

        Assert.Equal(("instruction", (string?)null, "response"), (mapping.User, mapping.Input, mapping.Assistant));
        Assert.Equal(new[] { "context" }, mapping.Constant);
        Assert.Equal(3, mapping.SampledRecords);
        Assert.Equal(new[] { "How do I reset my password?", "Can I change my delivery address?", "Do you ship abroad?" },
            outcome.Train.Select(r => Messages(r)[0].Content));

        // With only that column on the user side, every row is rejected saying why, rather than trained on one question.
        string only = _h.AddText("only.csv", Csv("question,answer", "Help,\"Sure, what do you need?\"", "Help,Tell me more.", "Help,Which order is it?"));
        var refused = await _h.RunAsync(NoValidation, "run2", only);
        Assert.Empty(refused.Train);
        Assert.Equal(3, refused.Rejects.Count(r => r.GetProperty("reason").GetString() == "missing_column"));
        Assert.Equal("'question' holds the same value in all 3 records looked at, so it is not taken as the question; "
            + "name the user column with pipeline.json prepare.columns.user (stune prepare --user-column)", refused.Reject(only, 2).GetProperty("message").GetString());
        Assert.Contains("every record rejected", refused.Stats.Files[0].Mapping!.Describe());
    }

    [Fact]
    public async Task Two_columns_that_fit_one_side_equally_are_refused_with_the_key_and_flag_that_decide()
    {
        string path = _h.AddText("export.csv", Csv("question,prompt,answer", "Is it waterproof?,Is it waterproof?,IP54."));

        var error = await Assert.ThrowsAsync<UserInputException>(() => _h.RunAsync(NoValidation, paths: path));

        Assert.Equal("datasets/acme/export.csv:1: 'question' and 'prompt' could each be the user side; choose one with "
            + "pipeline.json prepare.columns.user (stune prepare --user-column)", error.Message);
        Assert.False(File.Exists(Path.Combine(_h.Root, "prepared", "run1", "train.jsonl")));

        var chosen = await _h.RunAsync(NoValidation with { Columns = new() { User = "prompt" } }, "run2", path);
        Assert.Equal("prompt", chosen.Stats.Files[0].Mapping!.User);
        Assert.Equal(new[] { "question" }, chosen.Stats.Files[0].Mapping!.Ignored);
    }

    [Fact]
    public async Task Columns_and_roles_can_be_chosen_in_pipeline_json()
    {
        string table = _h.AddText("kb.tsv", "Frage\tThema\tAntwort\nWie lade ich den Akku?\tAkku\tMit dem USB-C-Kabel.\n");
        string chat = _h.AddText("calls.jsonl", "{\"messages\":[{\"role\":\"caller\",\"content\":\"My code stopped working.\"},{\"role\":\"rep\",\"content\":\"I reset it.\"}]}\n");
        var config = PipelineOptionsParser.Parse("""
            { "prepare": { "validation_fraction": 0, "columns": { "user": "Frage", "assistant": "antwort" }, "roles": { "caller": "user", "Rep": "assistant" } } }
            """);

        var outcome = await _h.RunAsync(config.Prepare, paths: [table, chat]);

        Assert.Equal(("Frage", "Antwort"), (outcome.Stats.Files[0].Mapping!.User, outcome.Stats.Files[0].Mapping!.Assistant));
        Assert.StartsWith("by pipeline.json", outcome.Stats.Files[0].Mapping!.Decided);
        Assert.Equal(new[] { ("user", "My code stopped working."), ("assistant", "I reset it.") }, Messages(outcome.Train[1]));
        Assert.Equal("user", outcome.Stats.Files[1].Mapping!.Roles!["caller"]);

        var typo = Assert.Throws<UserInputException>(() => PipelineOptionsParser.Parse("""{ "prepare": { "columns": { "usr": "Frage" } } }"""));
        Assert.Contains("prepare.columns.usr", typo.Message);
        var role = Assert.Throws<UserInputException>(() => PipelineOptionsParser.Parse("""{ "prepare": { "roles": { "rep": "tool" } } }"""));
        Assert.Contains("roles: 'rep=tool'", role.Message);
    }

    [Fact]
    public async Task Dolly_context_and_alpaca_input_are_appended_to_the_instruction()
    {
        string dolly = _h.AddText("dolly.csv", Csv(
            "instruction,context,response,category",
            "When does the warranty end?,\"The warranty runs two years from purchase.\",Two years after you bought it.,closed_qa",
            "What colours are there?,\"The lock comes in black and brushed steel.\",Black and brushed steel.,closed_qa"));
        string alpaca = _h.AddText("alpaca.json", """
            [
              {"instruction": "Summarise the return policy.", "input": "Returns are free within 30 days.", "output": "Free returns for 30 days."},
              {"instruction": "Say hello to the customer.", "input": "", "output": "Hello! How can I help?"}
            ]
            """);

        var outcome = await _h.RunAsync(NoValidation, paths: [dolly, alpaca]);

        Assert.Equal(("instruction", "context", "response"), (outcome.Stats.Files[0].Mapping!.User, outcome.Stats.Files[0].Mapping!.Input, outcome.Stats.Files[0].Mapping!.Assistant));
        Assert.Equal(("instruction", "input", "output"), (outcome.Stats.Files[1].Mapping!.User, outcome.Stats.Files[1].Mapping!.Input, outcome.Stats.Files[1].Mapping!.Assistant));
        var users = outcome.Train.Select(r => Messages(r)[0].Content).ToList();
        Assert.Contains("When does the warranty end?\n\nThe warranty runs two years from purchase.", users);
        Assert.Contains("Summarise the return policy.\n\nReturns are free within 30 days.", users);
        Assert.Contains("Say hello to the customer.", users);
    }

    [Fact]
    public async Task Sharegpt_conversations_and_messages_under_other_role_names_are_read_as_turns()
    {
        string sharegpt = _h.AddText("sharegpt.jsonl", string.Join("\n",
            """{"id": "a1", "conversations": [{"from": "system", "value": "You are Haldor's assistant."}, {"from": "human", "value": "Is the S2 waterproof?"}, {"from": "gpt", "value": "It is rated IP54."}]}""",
            """{"id": "a2", "conversations": [{"from": "human", "value": "Battery type?"}, {"from": "gpt", "value": "Four AA batteries."}, {"from": "tool", "value": "x"}]}""") + "\n");
        string helpdesk = _h.AddText("helpdesk.jsonl", string.Join("\n",
            """{"messages": [{"role": "customer", "content": "My keypad is dark."}, {"role": "agent", "content": "Replace the batteries."}]}""",
            """{"messages": [{"role": "human", "content": "Hi"}, {"role": "bot", "content": "Hello, how can I help?"}]}""") + "\n");

        var outcome = await _h.RunAsync(NoValidation, paths: [sharegpt, helpdesk]);

        var mapping = outcome.Stats.Files[0].Mapping!;
        Assert.Equal((MappingKind.Messages, "from", "value"), (mapping.Kind, mapping.RoleKey, mapping.ContentKey));
        Assert.Equal(new[] { "conversations" }, mapping.Lists);
        Assert.Equal("assistant", mapping.Roles!["gpt"]);
        Assert.Equal("unrecognized", mapping.Roles!["tool"]);
        Assert.Equal(new[] { ("system", "You are Haldor's assistant."), ("user", "Is the S2 waterproof?"), ("assistant", "It is rated IP54.") }, Messages(outcome.Train[0]));
        Assert.Contains("prepare.roles", outcome.Reject(sharegpt, 2).GetProperty("message").GetString());
        Assert.Equal(new[] { ("user", "My keypad is dark."), ("assistant", "Replace the batteries.") }, Messages(outcome.Train[1]));
        Assert.Equal(new[] { ("user", "Hi"), ("assistant", "Hello, how can I help?") }, Messages(outcome.Train[2]));
    }

    [Fact]
    public async Task Trl_conversational_prompt_completion_and_language_modelling_text_are_read()
    {
        string pairs = _h.AddText("trl.jsonl",
            """{"prompt": [{"role": "user", "content": "What colour is the keypad light?"}], "completion": [{"role": "assistant", "content": "White."}]}""" + "\n");
        string text = _h.AddText("corpus.jsonl", """{"text": "The Haldor S2 locks itself 30 seconds after the door closes."}""" + "\n");

        var outcome = await _h.RunAsync(NoValidation, paths: [pairs, text]);

        Assert.Equal(new[] { "prompt", "completion" }, outcome.Stats.Files[0].Mapping!.Lists);
        Assert.Equal(new[] { ("user", "What colour is the keypad light?"), ("assistant", "White.") }, Messages(outcome.Train[0]));
        Assert.Equal((MappingKind.Text, "text"), (outcome.Stats.Files[1].Mapping!.Kind, outcome.Stats.Files[1].Mapping!.Text));
        Assert.Equal("passage", outcome.Train[1].GetProperty("kind").GetString());
    }

    [Fact]
    public async Task Compound_headers_in_a_tsv_and_parquet_columns_are_mapped_by_their_last_word()
    {
        string tsv = _h.AddText("tickets.tsv", "ticket_id\tcustomer_message\tagent_response\tagent_name\n"
            + "T-1\tThe app says offline.\tUnplug the bridge for 10 seconds.\tSam\n");
        var rows = new[] { new InstructionRow { system_prompt = "Be brief.", instruction = "Can I add a fingerprint?", response = "Yes, in Lock > Users." } };
        using (var file = new MemoryStream())
        {
            await Parquet.Serialization.ParquetSerializer.SerializeAsync(rows, file);
            _h.AddBytes("hf.parquet", file.ToArray());
        }

        var outcome = await _h.RunAsync(NoValidation, paths: [tsv, "datasets/acme/hf.parquet"]);

        var mapping = outcome.Stats.Files[0].Mapping!;
        Assert.Equal(("customer_message", "agent_response"), (mapping.User, mapping.Assistant));
        Assert.Equal(new[] { "ticket_id" }, mapping.Metadata);
        Assert.Equal(new[] { "agent_name" }, mapping.Ignored);
        Assert.Equal(("instruction", "response", "system_prompt"), (outcome.Stats.Files[1].Mapping!.User, outcome.Stats.Files[1].Mapping!.Assistant, outcome.Stats.Files[1].Mapping!.System));
        Assert.Equal(new[] { ("system", "Be brief."), ("user", "Can I add a fingerprint?"), ("assistant", "Yes, in Lock > Users.") }, Messages(outcome.Train[1]));
    }

    [Fact]
    public async Task Stats_json_records_each_files_format_mapping_and_first_mapped_record()
    {
        string path = _h.AddText("faq.csv", Csv("Question,Answer", "Write to jane@example.com?,\"Yes, or call +44 20 7946 0958.\""));

        var outcome = await _h.RunAsync(NoValidation, paths: path);

        using var stats = JsonDocument.Parse(File.ReadAllText(Path.Combine(outcome.Root, "stats.json")));
        var file = stats.RootElement.GetProperty("files")[0];
        Assert.Equal("csv", file.GetProperty("format").GetString());
        Assert.Equal("utf-8", file.GetProperty("encoding").GetString());
        Assert.Equal("Question", file.GetProperty("mapping").GetProperty("user").GetString());
        Assert.Equal("columns", file.GetProperty("mapping").GetProperty("kind").GetString());
        // The sample is the record as written: redacted.
        Assert.Equal("Write to [EMAIL]?", file.GetProperty("sample")[0].GetProperty("content").GetString());
        Assert.Equal("Yes, or call [PHONE].", file.GetProperty("sample")[1].GetProperty("content").GetString());
    }

    [Fact]
    public async Task A_table_without_a_header_uses_its_first_two_columns_and_says_so()
    {
        string path = _h.AddText("plain.csv", Csv("Is the lock loud?,No.", "Does it need Wi-Fi?,Only for remote access."));

        var outcome = await _h.RunAsync(NoValidation, paths: path);

        Assert.Equal(2, outcome.Train.Count);
        Assert.Equal("no header row: columns 1 and 2", outcome.Stats.Files[0].Mapping!.Decided);
        Assert.Equal(("column 1", "column 2"), (outcome.Stats.Files[0].Mapping!.User, outcome.Stats.Files[0].Mapping!.Assistant));
    }

    [Theory]
    [InlineData("question", FieldRole.User)]
    [InlineData("Customer Question", FieldRole.User)]
    [InlineData("customerMessage", FieldRole.User)]
    [InlineData("utterance", FieldRole.User)]
    [InlineData("agent_reply", FieldRole.Assistant)]
    [InlineData("Bot Response", FieldRole.Assistant)]
    [InlineData("completion", FieldRole.Assistant)]
    [InlineData("system_prompt", FieldRole.System)]
    [InlineData("question_id", FieldRole.Id)]
    [InlineData("intent", FieldRole.Category)]
    [InlineData("input", FieldRole.Input)]
    [InlineData("context", FieldRole.Context)]
    [InlineData("response_time", null)]
    [InlineData("customer_email", null)]
    public void Field_names_are_classified_by_their_words(string name, FieldRole? role) => Assert.Equal(role, FieldNames.Classify(name));

    public sealed class InstructionRow
    {
        public string system_prompt { get; set; } = "";
        public string instruction { get; set; } = "";
        public string response { get; set; } = "";
    }
}
