using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ServerlessTune.Core.Hosting;

namespace ServerlessTune.Infra.Tests;

/// <summary>The dataset subscription (infra/dataset-events.bicep) against the blob trigger the code declares.</summary>
public sealed class EventsTests
{
    static JsonObject Trigger() => FunctionsHost.Metadata()
        .Select(f => f!.AsObject())
        .Single(f => f["bindings"]!.AsArray().Any(b => b!["type"]!.GetValue<string>() == "blobTrigger" && b["source"]?.GetValue<string>() == "EventGrid"));

    [Fact]
    public void Blob_created_events_under_the_trigger_path_go_to_the_trigger_s_webhook_with_the_extension_key()
    {
        var subscription = Assert.Single(Snapshots.Events.OfType("Microsoft.EventGrid/systemTopics/eventSubscriptions"));
        var functions = Snapshots.Default.Service("functions")!;
        var container = Snapshot.Settings(functions).Single(s => s.Name == StoreEnvironment.Container).Value;
        var trigger = Trigger();
        string path = trigger["bindings"]!.AsArray().Single(b => b!["type"]!.GetValue<string>() == "blobTrigger")!["path"]!.GetValue<string>();
        string prefix = path[(path.IndexOf('/') + 1)..path.IndexOf('{')];

        var filter = subscription["properties"]!["filter"]!;
        Assert.Equal(["Microsoft.Storage.BlobCreated"], filter["includedEventTypes"]!.AsArray().Select(t => t!.GetValue<string>()));
        Assert.Equal($"/blobServices/default/containers/{container}/blobs/{prefix}", filter["subjectBeginsWith"]!.GetValue<string>());
        Assert.Equal("datasets/", prefix);

        var destination = subscription["properties"]!["destination"]!;
        Assert.Equal("WebHook", destination["endpointType"]!.GetValue<string>());
        string endpoint = destination["properties"]!["endpointUrl"]!.GetValue<string>();
        // As ARM will evaluate it at deployment: the app's host name, the trigger's name, the host's blobs_extension key.
        string app = Regex.Escape(Snapshot.Id(functions));
        string name = Regex.Escape(trigger["name"]!.GetValue<string>());
        Assert.Matches(
            $@"^\[format\('https://\{{0\}}/runtime/webhooks/blobs\?functionName=Host\.Functions\.\{{1\}}&code=\{{2\}}', " +
            $@"reference\('{app}', '[^']+'\)\.defaultHostName, '{name}', listKeys\('{app}/host/default', '[^']+'\)\.systemKeys\.blobs_extension\)\]$",
            endpoint);
    }

    [Fact]
    public void The_subscription_is_on_the_topic_of_the_account_the_trigger_reads()
    {
        var subscription = Assert.Single(Snapshots.Events.OfType("Microsoft.EventGrid/systemTopics/eventSubscriptions"));
        var topic = Assert.Single(Snapshots.Default.OfType("Microsoft.EventGrid/systemTopics"));
        Assert.StartsWith(Snapshot.Id(topic) + "/eventSubscriptions/", Snapshot.Id(subscription));

        string connection = Assert.Single(FunctionsHost.Connections()).Name;
        string blobUri = Snapshot.Settings(Snapshots.Default.Service("functions")!).Single(s => s.Name == $"{connection}__blobServiceUri").Value!;
        var account = Assert.Single(Snapshots.Default.OfType("Microsoft.Storage/storageAccounts"));
        Assert.Equal(new Uri(blobUri).Host.Split('.')[0], Snapshot.Text(account, "name"));
        Assert.Equal(Snapshot.Id(account), topic["properties"]!["source"]!.GetValue<string>());
        Assert.Equal("Microsoft.Storage.StorageAccounts", topic["properties"]!["topicType"]!.GetValue<string>());
    }
}
