using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using ServerlessTune.Serving.Protocol;

namespace ServerlessTune.Serving.Http;

/// <summary>
/// Every endpoint needs the key: OpenAI clients send <c>Authorization: Bearer K</c>, Azure OpenAI clients
/// <c>api-key: K</c>. Compared in constant time. The Functions front door checks with this same type.
/// </summary>
public sealed class ApiKeyCheck(string key)
{
    readonly byte[] expected = Encoding.UTF8.GetBytes(key);

    /// <summary>What a request without the right key gets.</summary>
    public static ProtocolException Refusal() =>
        new(401, "Incorrect or missing API key: send 'Authorization: Bearer KEY' or 'api-key: KEY'", null, "invalid_api_key");

    public bool Allows(HttpRequest request)
    {
        string? given = request.Headers["api-key"].FirstOrDefault();
        if (given is null && request.Headers.Authorization.FirstOrDefault() is { } auth &&
            auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            given = auth["Bearer ".Length..].Trim();
        return given is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), expected);
    }
}
