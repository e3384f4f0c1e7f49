namespace ServerlessTune.Cli.Tests;

public class UsageTests
{
    [Fact]
    public void Unknown_command_is_a_usage_error_with_exit_code_2()
    {
        var result = Stune.Run("no-such-command");
        Assert.Equal(2, result.ExitCode);
        Assert.Equal("", result.Stdout);
        Assert.Contains("no-such-command", result.Stderr);
    }

    [Fact]
    public void A_resumed_run_refuses_a_new_poll_interval_before_opening_any_store()
    {
        var result = Stune.Run("run", "--resume", "20261201-000000-deadbeef", "--poll-seconds", "5");
        Assert.Equal(2, result.ExitCode);
        Assert.Equal("", result.Stdout);
        Assert.Contains("--poll-seconds applies to a new run", result.Stderr);
    }
}
