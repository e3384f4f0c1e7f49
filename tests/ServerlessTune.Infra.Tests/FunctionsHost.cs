using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ServerlessTune.Core.Hosting;

namespace ServerlessTune.Infra.Tests;

/// <summary>
/// What the Functions host itself reads, found where the code declares it: the connections and %settings% of the
/// bindings in the functions.metadata the build generates from the trigger attributes, and the Durable task hub's
/// connection in host.json. With identity, a connection C is C__blobServiceUri (and __queueServiceUri,
/// __tableServiceUri for the services the extension uses).
/// </summary>
public static partial class FunctionsHost
{
    public sealed record Connection(string Name, bool Queue, bool Table);

    public static JsonArray Metadata() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(Repository.FunctionsOutput, "functions.metadata")))!.AsArray();

    /// <summary>Blob triggers keep receipts and poison messages in queues; the Durable task hub uses blobs, queues and tables.</summary>
    public static IReadOnlyList<Connection> Connections()
    {
        var bindings = Metadata().SelectMany(f => f!["bindings"]!.AsArray()).Select(b => b!.AsObject()).ToList();
        var connections = bindings.Where(b => b["connection"] is not null)
            .Select(b => new Connection(Snapshot.Text(b, "connection"), Queue: true, Table: false)).ToList();
        var host = JsonNode.Parse(File.ReadAllText(Path.Combine(Repository.Root, "host.json")))!;
        if (host["extensions"]?["durableTask"]?["storageProvider"]?["connectionName"]?.GetValue<string>() is { } hub)
            connections.Add(new Connection(hub, Queue: true, Table: true));
        return connections.GroupBy(c => c.Name).Select(g => new Connection(g.Key, g.Any(c => c.Queue), g.Any(c => c.Table))).ToList();
    }

    /// <summary>Binding expressions like %STUNE_CONTAINER% name app settings.</summary>
    public static IReadOnlyList<string> BindingExpressions() => Metadata()
        .SelectMany(f => f!["bindings"]!.AsArray())
        .SelectMany(b => b!.AsObject().Select(p => p.Value).OfType<JsonValue>().Select(v => v.ToString()))
        .SelectMany(v => Percent().Matches(v).Select(m => m.Groups[1].Value))
        .Distinct().ToList();

    public static EnvironmentNames Names()
    {
        var required = new List<string> { "AzureWebJobsStorage__accountName" };
        var optional = new List<string> { "AzureWebJobsStorage__credential" };
        foreach (var c in Connections())
        {
            required.Add($"{c.Name}__blobServiceUri");
            if (c.Queue) required.Add($"{c.Name}__queueServiceUri");
            if (c.Table) required.Add($"{c.Name}__tableServiceUri");
            optional.AddRange([c.Name, $"{c.Name}__credential", $"{c.Name}__clientId"]);
        }
        required.AddRange(BindingExpressions());
        return new EnvironmentNames(required.Distinct().ToList(), optional.Except(required).Distinct().ToList());
    }

    [GeneratedRegex("%([A-Za-z0-9_]+)%")]
    private static partial Regex Percent();
}
