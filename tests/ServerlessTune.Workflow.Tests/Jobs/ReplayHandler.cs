using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace ServerlessTune.Workflow.Tests.Jobs;

/// <summary>
/// Answers HTTP requests from a recorded exchange, in order, and fails the test when a request differs
/// from the recorded one (method, URL, bearer token, JSON body).
/// </summary>
public sealed class ReplayHandler(JsonArray exchanges, Func<JsonNode, JsonNode>? expectBody = null) : HttpMessageHandler
{
    int _next;

    public int Remaining => exchanges.Count - _next;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Assert.True(_next < exchanges.Count, $"unexpected request {request.Method} {request.RequestUri}");
        var recorded = exchanges[_next++]!;
        var expected = recorded["request"]!;
        Assert.Equal(expected["method"]!.GetValue<string>(), request.Method.Method);
        Assert.Equal(expected["url"]!.GetValue<string>(), request.RequestUri!.AbsoluteUri);
        Assert.Equal(expected["authorization"]!.GetValue<string>(), request.Headers.Authorization?.ToString());
        if (expected["body"] is { } body)
        {
            var actual = JsonNode.Parse(await request.Content!.ReadAsStringAsync(cancellationToken))!;
            var wanted = expectBody?.Invoke(body.DeepClone()) ?? body;
            Assert.True(JsonNode.DeepEquals(wanted, actual), $"request body differs:\nexpected {wanted.ToJsonString()}\nactual   {actual.ToJsonString()}");
        }
        else Assert.Null(request.Content);

        var response = recorded["response"]!;
        return new HttpResponseMessage((HttpStatusCode)response["status"]!.GetValue<int>())
        {
            Content = new StringContent(response["body"]!.ToJsonString(), Encoding.UTF8, "application/json"),
        };
    }
}
