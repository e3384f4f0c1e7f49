using System.Diagnostics;
using Microsoft.Playwright;
using ServerlessTune.Core.Feedback;

namespace ServerlessTune.Serving.Tests;

/// <summary>The playground page in Debian's headless Chromium, driven by Playwright: a chat streams, ratings reach the store.</summary>
public sealed class PlaygroundTests(LoggingServer shared) : IClassFixture<LoggingServer>
{
    /// <summary>Debian's chromium (`.ci/run` installs it); a missing browser fails the test, it never skips.</summary>
    static string Chromium()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
            if (File.Exists(Path.Combine(dir, "chromium"))) return Path.Combine(dir, "chromium");
        throw new InvalidOperationException("chromium is not on PATH: install Debian's chromium package (see .ci/run)");
    }

    [Fact]
    public async Task A_chat_streams_and_a_rating_and_a_correction_reach_the_feedback_store()
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = Chromium(), Headless = true });
        var page = await browser.NewPageAsync();
        var errors = new List<string>();
        page.PageError += (_, e) => errors.Add(e);
        // The page asks for the key; the HTML the server sends never contains it.
        var response = await page.GotoAsync(shared.Server.App.Address.ToString());
        Assert.Equal(200, response!.Status);
        Assert.DoesNotContain(TestServer.Key, await response.TextAsync());

        await page.FillAsync("#key", TestServer.Key);
        await page.ClickAsync("#connect");
        await page.WaitForSelectorAsync("#model option[value='tiny']", new() { State = WaitForSelectorState.Attached });

        await page.FillAsync("#max-tokens", "12");
        await page.FillAsync("#prompt", "My fiber light is red");
        await page.ClickAsync("#send");
        var first = page.Locator(".turn.assistant").First;
        await first.Locator(".version").WaitForAsync();
        Assert.Matches(@"^version tiny · (length · 12|stop · \d+) tokens$", await first.Locator(".version").TextContentAsync());
        // The answer arrived as a stream: the page added it piece by piece, one server-sent chunk at a time.
        Assert.True(int.Parse((await first.GetAttributeAsync("data-chunks"))!) > 1);
        string answer = (await first.Locator(".text").TextContentAsync())!;
        string id = (await first.GetAttributeAsync("data-completion-id"))!;
        Assert.StartsWith("chatcmpl-", id);

        await first.Locator(".rate-up").ClickAsync();
        await WaitForTextAsync(first.Locator(".feedback-status"), "rated +1");

        await page.FillAsync("#prompt", "And now?");
        await page.ClickAsync("#send");
        var second = page.Locator(".turn.assistant").Nth(1);
        await second.Locator(".version").WaitForAsync();
        string secondId = (await second.GetAttributeAsync("data-completion-id"))!;
        await second.Locator(".correction").FillAsync("Unplug the box for ten seconds, then plug it back in.");
        await second.Locator(".send-correction").ClickAsync();
        await WaitForTextAsync(second.Locator(".feedback-status"), "correction saved");
        Assert.Empty(errors);

        var feedback = FeedbackRecord.Latest(await shared.FeedbackAsync());
        Assert.Equal(1, Assert.Single(feedback, f => f.CompletionId == id).Rating);
        var corrected = Assert.Single(feedback, f => f.CompletionId == secondId);
        Assert.Equal((-1, "Unplug the box for ten seconds, then plug it back in."), (corrected.Rating, corrected.Correction));

        // The answer shown is the one served and logged, and the second request carried the whole conversation.
        var conversations = await shared.ConversationsAsync();
        Assert.Equal(answer, Assert.Single(conversations, c => c.Id == id).Choices[0].Text);
        Assert.Equal(["user", "assistant", "user"], Assert.Single(conversations, c => c.Id == secondId).Messages!.Select(m => m.Role));
    }

    static async Task WaitForTextAsync(ILocator locator, string text)
    {
        var clock = Stopwatch.StartNew();
        while ((await locator.TextContentAsync()) != text)
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(30)) Assert.Fail($"waited for '{text}', the page shows '{await locator.TextContentAsync()}'");
            await Task.Delay(50);
        }
    }
}
