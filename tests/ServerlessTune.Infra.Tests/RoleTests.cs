namespace ServerlessTune.Infra.Tests;

public sealed class RoleTests
{
    [Theory]
    [MemberData(nameof(Snapshots.Both), MemberType = typeof(Snapshots))]
    public async Task Every_identity_holds_the_roles_its_code_needs(string deployment)
    {
        Assert.Empty(RoleCheck.Problems(Snapshots.Named(deployment), (await JobLaunchTests.LaunchAsync()).Requests));
    }

    [Fact]
    public async Task A_missing_role_or_a_launcher_call_the_role_does_not_allow_is_reported()
    {
        var broken = Snapshots.Default.Clone();
        var resources = broken.Json["predictedResources"]!.AsArray();
        var queue = resources.Single(r => r!["type"]!.GetValue<string>() == "Microsoft.Authorization/roleAssignments"
            && r["properties"]!["roleDefinitionId"]!.GetValue<string>().EndsWith(RoleCheck.QueueDataContributor));
        resources.Remove(queue);
        var actions = broken.OfType("Microsoft.Authorization/roleDefinitions").Single()["properties"]!["permissions"]![0]!["actions"]!.AsArray();
        actions.Remove(actions.Single(a => a!.GetValue<string>() == "Microsoft.App/jobs/start/action"));

        var problems = RoleCheck.Problems(broken, (await JobLaunchTests.LaunchAsync()).Requests);

        Assert.Equal(2, problems.Count);
        Assert.Contains(problems, p => p.StartsWith(Snapshot.Text(broken.Service("functions")!, "name") + " needs queue data (STUNE_STORAGE)"));
        Assert.Contains("the Functions app cannot Microsoft.App/jobs/start/action on the job, which its launcher calls", problems);
    }

    [Fact]
    public void The_hosted_path_adds_an_identity_only_Azure_OpenAI_account_and_the_default_deployment_has_none()
    {
        var account = Assert.Single(Snapshots.Hosted.OfType("Microsoft.CognitiveServices/accounts"));
        Assert.Equal("OpenAI", Snapshot.Text(account, "kind"));
        Assert.True(account["properties"]!["disableLocalAuth"]!.GetValue<bool>());
        Assert.Empty(Snapshots.Default.OfType("Microsoft.CognitiveServices/accounts"));
        Assert.DoesNotContain(Snapshot.Settings(Snapshots.Default.Service("functions")!), s => s.Name.StartsWith("AZURE_OPENAI"));
        Assert.Contains(Snapshot.Settings(Snapshots.Hosted.Service("functions")!), s => s.Name == "AZURE_OPENAI_ENDPOINT");
    }
}
