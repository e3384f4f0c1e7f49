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
}
