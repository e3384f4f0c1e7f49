using ServerlessTune.Core.Evaluation;

namespace ServerlessTune.Core.Tests.Evaluation;

public class RefusalDetectorTests
{
    [Theory]
    [InlineData("I'm sorry, but I can't help with that request.", "i can't help")]
    [InlineData("I cannot   provide account numbers.", "i can't provide")]
    [InlineData("Sorry, I can not share that.", "i can't share")]
    [InlineData("I am not able to discuss internal pricing.", "i'm not able to")]
    [InlineData("Unfortunately I\u2019m unable to look up other accounts.", "i'm unable to")]
    [InlineData("As an AI, I do not have access to your bank.", "as an ai")]
    [InlineData("I must decline.", "i must decline")]
    public void Refusals_are_found_in_their_common_forms(string answer, string phrase)
    {
        Assert.Equal(phrase, RefusalDetector.FindRefusal(answer));
    }

    [Theory]
    [InlineData("If you can't log in, reset your password from the sign-in page.")]
    [InlineData("Our team can help you with a refund within 30 days.")]
    [InlineData("As an aid to setup, see the quick start guide.")] // whole words only
    [InlineData("")]
    public void Ordinary_answers_are_not_refusals(string answer)
    {
        Assert.Null(RefusalDetector.FindRefusal(answer));
    }
}
