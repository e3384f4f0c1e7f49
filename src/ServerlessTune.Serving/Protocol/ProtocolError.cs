namespace ServerlessTune.Serving.Protocol;

/// <summary>
/// A request the server refuses, answered in OpenAI's error shape
/// <c>{"error": {"message", "type", "param", "code"}}</c> with the HTTP status it belongs to.
/// </summary>
public sealed class ProtocolException(int status, string message, string? param = null, string? code = null,
    string type = ProtocolException.InvalidRequest) : Exception(message)
{
    public const string InvalidRequest = "invalid_request_error";

    public int Status { get; } = status;
    public string? Param { get; } = param;
    public string? Code { get; } = code;
    public string Type { get; } = type;

    /// <summary>Seconds to wait before retrying (429 and 503).</summary>
    public int? RetryAfterSeconds { get; init; }

    public ErrorBody Body => new(new ErrorDetail(Message, Type, Param, Code));

    public static ProtocolException BadValue(string param, string message) => new(400, $"{param}: {message}", param, "invalid_value");

    public static ProtocolException BodyTooLarge(int maxBytes) => new(413, $"the request body is larger than {maxBytes} bytes");

    public static ProtocolException BadType(string param, string expected) =>
        new(400, $"{param}: expected {expected}", param, "invalid_type");
}

public sealed record ErrorBody(ErrorDetail Error);

public sealed record ErrorDetail(string Message, string Type, string? Param, string? Code);
