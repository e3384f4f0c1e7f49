using System.Reflection;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Azure.Functions.Worker.Http;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ServerlessTune.Core.Jobs;
using ServerlessTune.Core.Storage;
using ServerlessTune.Functions;
using ServerlessTune.Workflow.Jobs;

namespace ServerlessTune.Workflow.Tests.Functions;

/// <summary>
/// The Functions app's <see cref="RunsApi"/> on Kestrel, routed as the Functions host routes it (host.json's route
/// prefix, each function's HttpTrigger route and methods). Each request reaches the function as the ASP.NET Core
/// integration hands it over: the integration's own HttpRequestData over the request's HttpContext (made by its
/// AspNetCoreHttpRequestDataFeature, an internal type reached by reflection), whose response writes straight into
/// that HttpContext, and the worker's default serializer. The Functions host itself cannot run here.
/// </summary>
public sealed class RunsApiHost : IAsyncDisposable
{
    // Where the integration's middleware puts the request's HttpContext for GetHttpContext() to find.
    const string HttpContextItem = "HttpRequestContext";
    static readonly Type Feature = typeof(FunctionsApplicationBuilderAspNetCoreExtensions).Assembly
        .GetType("Microsoft.Azure.Functions.Worker.Extensions.Http.AspNetCore.AspNetCoreHttpRequestDataFeature", throwOnError: true)!;
    static readonly object FeatureInstance = Feature.GetProperty("Instance", BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)!.GetValue(null)!;
    static readonly MethodInfo GetRequestData = Feature.GetMethod("GetHttpRequestDataAsync")!;
    readonly WebApplication _app;

    RunsApiHost(WebApplication app)
    {
        _app = app;
        Http = new HttpClient { BaseAddress = new Uri(app.Urls.First()), Timeout = TimeSpan.FromMinutes(2) };
    }

    public HttpClient Http { get; }

    public static async Task<RunsApiHost> StartAsync(DurableTaskClient client, IArtifactStore store, IJobLauncher launcher)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        // The worker's own services and the app's serializer as the Functions app's Program.cs has them, less the
        // worker's hosted service, which would connect to a Functions host.
        builder.Services.AddFunctionsWorkerCore(FunctionsJson.Configure);
        foreach (var worker in builder.Services.Where(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType?.Name == "WorkerHostedService").ToList())
            builder.Services.Remove(worker);
        builder.Services.AddSingleton(store);
        builder.Services.AddSingleton(new RunJobs(store, JobLaunchers.For(launcher, null)));
        builder.Services.AddSingleton<RunsApi>();
        var app = builder.Build();
        string prefix = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "host.json")))!["extensions"]!["http"]!["routePrefix"]!
            .GetValue<string>();
        foreach (var function in typeof(RunsApi).GetMethods().Where(m => m.GetCustomAttribute<FunctionAttribute>() is not null))
        {
            var trigger = function.GetParameters().Select(p => p.GetCustomAttribute<HttpTriggerAttribute>()).Single(t => t is not null)!;
            app.MapMethods($"/{prefix}/{trigger.Route}", trigger.Methods!.Select(m => m.ToUpperInvariant()), http => InvokeAsync(function, http, client));
        }
        await app.StartAsync();
        return new RunsApiHost(app);
    }

    /// <summary>Binds the function's parameters as the worker does: the request, route values by name, the durable client.</summary>
    static async Task InvokeAsync(MethodInfo function, HttpContext http, DurableTaskClient client)
    {
        var context = new Invocation(http);
        var request = await (ValueTask<HttpRequestData?>)GetRequestData.Invoke(FeatureInstance, [context])!
                      ?? throw new InvalidOperationException("the integration found no HttpContext");
        object?[] arguments = function.GetParameters().Select(object? (p) => p.ParameterType switch
        {
            var t when t == typeof(HttpRequestData) => request,
            var t when t == typeof(DurableTaskClient) => client,
            var t when t == typeof(CancellationToken) => http.RequestAborted,
            var t when t == typeof(string) => (object?)http.Request.RouteValues[p.Name!]?.ToString(),
            var t => throw new InvalidOperationException($"{function.Name}: no binding for {t}"),
        }).ToArray();
        var api = http.RequestServices.GetRequiredService<RunsApi>();
        var response = await (Task<HttpResponseData>)function.Invoke(api, arguments)!;
        // The integration's response object is the HttpContext's response: what the function wrote is already there.
        if (!ReferenceEquals(response.FunctionContext, context))
            throw new InvalidOperationException($"{function.Name} returned a response of another invocation");
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>The invocation as the worker describes it to a function: its services, items and cancellation.</summary>
    sealed class Invocation(HttpContext http) : FunctionContext
    {
        public override string InvocationId { get; } = Guid.NewGuid().ToString();
        public override string FunctionId => "";
        public override TraceContext TraceContext => throw new NotSupportedException("no trace context in the test host");
        public override BindingContext BindingContext => throw new NotSupportedException("no binding context in the test host");
        public override RetryContext RetryContext => throw new NotSupportedException("no retry context in the test host");
        public override IServiceProvider InstanceServices { get; set; } = http.RequestServices;
        public override FunctionDefinition FunctionDefinition => throw new NotSupportedException("no function definition in the test host");
        public override IDictionary<object, object> Items { get; set; } = new Dictionary<object, object> { [HttpContextItem] = http };
        public override IInvocationFeatures Features => throw new NotSupportedException("no invocation features in the test host");
        public override CancellationToken CancellationToken => http.RequestAborted;
    }
}
