using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using ServerlessTune.Core.Hosting;

namespace ServerlessTune.Serving.Tests;

/// <summary>`stune serve` as users start it: the key rule (made up on loopback, required anywhere else) and its settings.</summary>
public sealed partial class ServeCommandTests(TinyChatModel tiny) : IClassFixture<TinyChatModel>
{
    [Fact]
    public void Off_loopback_without_a_key_it_refuses_to_start_with_exit_2_and_one_line()
    {
        var result = StuneProcess.Run("serve", "--model", tiny.Folder, "--host", "0.0.0.0", "--port", "0");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("", result.Stdout);
        var line = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("--host 0.0.0.0 is not loopback", line);
        Assert.Contains(ServingEnvironment.ApiKey, line);
    }

    [Fact]
    public void An_unknown_format_is_a_usage_error_naming_the_formats()
    {
        var result = StuneProcess.Run("serve", "--model", tiny.Folder, "--format", "fp16", "--port", "0");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("", result.Stdout);
        Assert.Contains("fp16", result.Stderr);
        Assert.Contains("fp32", result.Stderr);
        Assert.Contains("int8", result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
    }

    [Fact]
    public async Task On_loopback_without_a_key_it_makes_one_up_prints_it_on_stderr_and_requires_it()
    {
        using var process = Process.Start(StuneProcess.StartInfo("serve", "--model", tiny.Folder, "--port", "0"))!;
        try
        {
            string? key = null;
            Uri? address = null;
            using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            while (address is null && await process.StandardError.ReadLineAsync(deadline.Token) is { } line)
            {
                if (GeneratedKey().Match(line) is { Success: true } k) key = k.Groups[1].Value;
                if (ServingOn().Match(line) is { Success: true } a) address = new Uri(a.Groups[1].Value);
            }
            Assert.NotNull(key);
            Assert.NotNull(address);
            Assert.Matches("^sk-stune-[0-9a-f]{48}$", key);

            using var http = new HttpClient { BaseAddress = address };
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/v1/models")).StatusCode);
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/v1/models")).StatusCode);
            Assert.False(process.HasExited);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    [Fact]
    public void The_environment_names_the_Azure_serving_container_sets_are_read()
    {
        var environment = new Dictionary<string, string>
        {
            [StoreEnvironment.Connection] = "UseDevelopmentStorage=true",
            [StoreEnvironment.Container] = "artifacts",
            [ServingEnvironment.ApiKey] = "sk-from-env",
            [ServingEnvironment.Project] = "acme",
            [ServingEnvironment.Port] = "8080",
        };
        var options = ServingOptions.FromEnvironment(environment.GetValueOrDefault);
        Assert.Equal(("UseDevelopmentStorage=true", "artifacts", "sk-from-env", "acme", 8080),
            (options.Connection, options.Container, options.ApiKey, options.Project, options.Port));

        var identity = ServingOptions.FromEnvironment(new Dictionary<string, string>
        {
            [StoreEnvironment.AccountUrl] = "https://acct.blob.core.windows.net",
        }.GetValueOrDefault);
        Assert.Equal("https://acct.blob.core.windows.net", identity.BlobServiceUri);
        Assert.Equal((ServingOptions.DefaultContainer, ServingOptions.DefaultPort, null), (identity.Container, identity.Port, identity.ApiKey));

        Assert.Throws<UsageException>(() => ServingOptions.FromEnvironment(new Dictionary<string, string>
        {
            [ServingEnvironment.Port] = "eighty",
        }.GetValueOrDefault));
        Assert.Throws<UsageException>(() => (identity with { ApiKey = "k", BlobServiceUri = "http://acct" }).Validated(out _));
    }

    [GeneratedRegex(@"clients must send this key: (\S+)")]
    private static partial Regex GeneratedKey();

    [GeneratedRegex(@"serving .* on (http://\S+?)/? \(")]
    private static partial Regex ServingOn();
}
