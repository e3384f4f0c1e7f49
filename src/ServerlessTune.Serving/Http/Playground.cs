using Microsoft.AspNetCore.Http;

namespace ServerlessTune.Serving.Http;

/// <summary>GET /: the chat playground, one embedded HTML page (pick a model, chat streamed, rate and correct answers).</summary>
static class Playground
{
    static readonly Lazy<byte[]> Html = new(() =>
    {
        using var stream = typeof(Playground).Assembly.GetManifestResourceStream("playground.html")
                           ?? throw new InvalidOperationException("the playground page is not embedded in the serving assembly");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    });

    public static bool IsPage(HttpRequest request) => HttpMethods.IsGet(request.Method) && request.Path == "/";

    public static IResult Page(HttpContext http)
    {
        // The page runs only its own inline script and talks only to this server.
        http.Response.Headers.ContentSecurityPolicy = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'";
        http.Response.Headers.XContentTypeOptions = "nosniff";
        return Results.Bytes(Html.Value, "text/html; charset=utf-8");
    }
}
