using ServerlessTune.Core.Data.Redaction;

namespace ServerlessTune.Core.Tests.Data;

public sealed class RedactorTests
{
    public static TheoryData<string, string, string> Secrets()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var sample in new SecretCorpus(11).Secrets().Concat(SecretCorpus.PersonalData()))
            data.Add(sample.Placeholder, sample.Secret, sample.Text);
        return data;
    }

    [Theory]
    [MemberData(nameof(Secrets))]
    public void Every_kind_of_secret_and_personal_data_becomes_its_placeholder(string placeholder, string secret, string text)
    {
        var result = Redactor.Redact(text);

        Assert.DoesNotContain(secret, result.Text);
        Assert.Contains(placeholder, result.Text);
        Assert.Equal(1, result.Counts[placeholder[1..^1]]);
        Assert.Equal(1, result.Counts.Values.Sum());
    }

    [Fact]
    public void The_name_that_gave_a_secret_away_is_kept_and_only_the_value_goes()
    {
        Assert.Equal("aws_secret_access_key = [AWS_SECRET_KEY]", Redactor.Redact("aws_secret_access_key = " + new string('A', 19) + "wJalrXUtnFEMI/K7MDENG").Text);
        Assert.Equal("{\"password\": \"[PASSWORD]\", \"user\": \"jane\"}", Redactor.Redact("{\"password\": \"s3cr3t-Pass\", \"user\": \"jane\"}").Text);
        Assert.Equal("AccountName=x;AccountKey=[AZURE_STORAGE_KEY];EndpointSuffix=core.windows.net",
            Redactor.Redact("AccountName=x;AccountKey=" + new string('k', 40) + "9Q==;EndpointSuffix=core.windows.net").Text);
    }

    [Theory]
    [InlineData("Your default Wi-Fi password is printed on the sticker under the router.")]
    [InlineData("Wi-Fi password: printed on the sticker. It has 8 characters.")]
    [InlineData("The password: 8 characters at least.")]
    [InlineData("Use the keypad: press the key symbol, then enter your code.")]
    [InlineData("We use sk-learn compatible estimators and scikit-learn pipelines.")]
    [InlineData("Shipping to Asia takes two weeks; AKIA is not a word.")]
    [InlineData("A token of appreciation: a free month.")]
    [InlineData("Order id=123e4567-e89b-12d3-a456-426614174000 shipped.")]
    [InlineData("session: 2 hours, key: the blue one, auth=true, password={{password}}")]
    [InlineData("Bearer of good news: your basic plan is active.")]
    [InlineData("if (a == b) { key = value; }")]
    [InlineData("Reply [PASSWORD] and [SECRET] are placeholders already.")]
    public void Support_text_that_only_mentions_keys_and_passwords_is_left_alone(string text)
    {
        var result = Redactor.Redact(text);
        Assert.Equal(text, result.Text);
        Assert.False(result.Changed);
    }

    [Fact]
    public void Secrets_run_before_personal_data_so_no_digits_of_a_key_become_a_phone()
    {
        string key = "AKIA" + "2345676543234567";
        var result = Redactor.Redact($"key {key} and phone +44 20 7946 0958");
        Assert.Equal("key [AWS_ACCESS_KEY_ID] and phone [PHONE]", result.Text);
    }

    [Fact]
    public void Personal_data_can_be_kept_while_secrets_still_go()
    {
        var result = Redactor.Redact("jane@example.com token=abc123xyz", personalData: false);
        Assert.Equal("jane@example.com token=[SECRET]", result.Text);
    }

    [Fact]
    public void A_text_without_anything_to_redact_comes_back_as_the_same_string()
    {
        string text = "How do I restart my router? Unplug it for 30 seconds.";
        Assert.Same(text, Redactor.Redact(text).Text);
    }
}
