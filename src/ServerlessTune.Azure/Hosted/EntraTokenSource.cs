using Azure.Core;

namespace ServerlessTune.Azure.Hosted;

/// <summary>
/// Bearer tokens of one scope from a credential (the app's managed identity through DefaultAzureCredential), kept until
/// they are due for refresh, for a host to hand to code that takes no Azure package (the serving core's forwarder).
/// </summary>
public sealed class EntraTokenSource(TokenCredential credential, string scope)
{
    static readonly TimeSpan Margin = TimeSpan.FromMinutes(5);

    readonly SemaphoreSlim gate = new(1, 1);
    AccessToken? current;

    public async ValueTask<string> GetAsync(CancellationToken ct)
    {
        if (Fresh() is { } token) return token;
        await gate.WaitAsync(ct);
        try
        {
            if (Fresh() is { } again) return again;
            current = await credential.GetTokenAsync(new TokenRequestContext([scope]), ct);
            return current.Value.Token;
        }
        finally
        {
            gate.Release();
        }
    }

    string? Fresh() => current is { } t && (t.RefreshOn ?? t.ExpiresOn - Margin) > DateTimeOffset.UtcNow ? t.Token : null;
}
