using System.Net;
using System.Text;
using ServerlessTune.Workflow.Api;

namespace ServerlessTune.Workflow.Tests.Api;

public sealed class RunRequestsTests
{
    static Task<StartRunRequest> Start(string body, long? contentLength = null) =>
        RunRequests.ReadStartAsync(new MemoryStream(Encoding.UTF8.GetBytes(body)), contentLength);

    static async Task<ApiError> Refused(Func<Task> read) => await Assert.ThrowsAsync<ApiError>(read);

    [Fact]
    public async Task A_start_request_with_a_config_carries_it_parsed()
    {
        var request = await Start("""{"project": "acme", "config": {"train": {"epochs": 2}}}""");
        Assert.Equal("acme", request.Project);
        Assert.Equal(2, request.Options!.Train.Epochs);
        Assert.Null((await Start("""{"project": "acme"}""")).Options);
    }

    [Fact]
    public async Task Oversized_bodies_are_refused_by_declared_length_and_by_what_arrives()
    {
        var declared = await Refused(() => Start("{}", contentLength: RunRequests.MaxBodyBytes + 1));
        string big = "{\"project\": \"acme\", \"pad\": \"" + new string('x', RunRequests.MaxBodyBytes) + "\"}";
        var streamed = await Refused(() => Start(big, contentLength: null));
        var lied = await Refused(() => Start(big, contentLength: 10));

        Assert.All([declared, streamed, lied], e => Assert.Equal(HttpStatusCode.RequestEntityTooLarge, e.Status));
        Assert.Equal($"body: larger than {RunRequests.MaxBodyBytes} bytes", streamed.Message);
    }

    [Theory]
    [InlineData("""{"project": "../etc"}""", "invalid project '../etc'")]
    [InlineData("""{"project": "acme/../../x"}""", "invalid project")]
    [InlineData("""{"project": "acme\\x"}""", "invalid project")]
    [InlineData("""{"project": ""}""", "invalid project")]
    [InlineData("""{}""", "body: project: missing")]
    [InlineData("""{"project": 7}""", "body: project: expected a string")]
    [InlineData("""{"project": "acme", "extra": 1}""", "body: extra: unknown key")]
    [InlineData("""{"project": "acme", "config": {"deploy": {"alias": "latest"}}}""", "body: config: deploy: alias: 'latest'")]
    [InlineData("""{"project": "acme", "config": {"eval": {"suite": "../../secrets.json"}}}""", "body: config: eval: suite: invalid artifact path")]
    [InlineData("""{"project": "acme", "config": {"project": "other"}}""", "body: config: project: 'other' differs")]
    [InlineData("""[1, 2]""", "body: expected a JSON object")]
    [InlineData("""{"project": """, "body:1: invalid JSON")]
    [InlineData("", "body: empty")]
    public async Task Bad_start_requests_get_a_400_naming_the_problem(string body, string expected)
    {
        var error = await Refused(() => Start(body));
        Assert.Equal(HttpStatusCode.BadRequest, error.Status);
        Assert.Contains(expected, error.Message);
        Assert.Equal(error.Message, error.Body.GetType().GetProperty("error")!.GetValue(error.Body));
    }

    [Fact]
    public async Task Approvals_need_an_explicit_decision()
    {
        var decision = await RunRequests.ReadApprovalAsync(new MemoryStream("""{"approved": false, "by": "dana", "comment": "too formal"}"""u8.ToArray()), null);
        Assert.Equal(new ApprovalDecision(false, "dana", "too formal"), decision);
        var missing = await Refused(() => RunRequests.ReadApprovalAsync(new MemoryStream("""{"by": "dana"}"""u8.ToArray()), null));
        Assert.Equal("body: approved: missing (true or false)", missing.Message);
        var typed = await Refused(() => RunRequests.ReadApprovalAsync(new MemoryStream("""{"approved": "yes"}"""u8.ToArray()), null));
        Assert.Contains("approved: expected true or false", typed.Message);
    }

    [Fact]
    public async Task Terminate_takes_an_optional_reason()
    {
        Assert.Equal("terminated through the API", await RunRequests.ReadTerminateReasonAsync(new MemoryStream(), 0));
        Assert.Equal("wrong data", await RunRequests.ReadTerminateReasonAsync(new MemoryStream("""{"reason": "wrong data"}"""u8.ToArray()), null));
    }

    [Theory]
    [InlineData("..")]
    [InlineData("a/b")]
    [InlineData("%2e%2e")]
    public void Run_ids_from_routes_are_single_safe_segments(string runId)
    {
        var error = Assert.Throws<ApiError>(() => RunRequests.RunId(runId));
        Assert.Equal(HttpStatusCode.BadRequest, error.Status);
    }
}
