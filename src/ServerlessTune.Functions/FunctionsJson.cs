using System.Text.Json;
using Azure.Core.Serialization;
using Microsoft.Azure.Functions.Worker;

namespace ServerlessTune.Functions;

/// <summary>
/// The worker's one serializer, for HTTP bodies and durable payloads alike: the web defaults (camelCase names, as the
/// Durable Functions HTTP API documents its status links, and as the embedded runner serializes run inputs). The
/// worker's own default is PascalCase.
/// </summary>
public static class FunctionsJson
{
    public static void Configure(WorkerOptions options) =>
        options.Serializer = new JsonObjectSerializer(new JsonSerializerOptions(JsonSerializerDefaults.Web));
}
