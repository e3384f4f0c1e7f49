using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace ServerlessTune.Serving.Http;

/// <summary>
/// Every endpoint needs the key: OpenAI clients send <c>Authorization: Bearer K</c>, Azure OpenAI clients
/// <c>api-key: K</c>. Compared in constant time.
/// </summary>
sealed class ApiKeyCheck(string key)
{
    readonly byte[] expected = Encoding.UTF8.GetBytes(key);

    public bool Allows(HttpRequest request)
    {
        string? given = request.Headers["api-key"].FirstOrDefault();
        if (given is null && request.Headers.Authorization.FirstOrDefault() is { } auth &&
            auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            given = auth["Bearer ".Length..].Trim();
        return given is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), expected);
    }
}
