using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ServerlessTune.Workflow.Tests.Hosted;

/// <summary>
/// A loopback HTTPS server speaking the documented REST protocols the hosted path uses: OpenAI's files,
/// fine_tuning/jobs (events, checkpoints, cancel) and chat/completions (under /v1 with a bearer key, and under
/// /openai with Azure OpenAI's api-key header and deployment routes), and ARM's Cognitive Services deployments (PUT
/// and GET with a bearer token). Payloads follow the API references' examples. A job moves one state per poll
/// (validating_files, queued, running with a metrics event per poll, then succeeded or failed); a fine-tuned model
/// answers with the training example nearest to the question, the base with a fixed non-answer, plain or as a stream of
/// chat.completion.chunk events (with the usage chunk when stream_options.include_usage asks). Azure OpenAI's data plane
/// takes an api-key or an Entra ID bearer token. Faults (429 with retry-after-ms, 5xx) are injected per route; every
/// request is logged with its time, headers and body. The serving tests compile this same file (linked).
/// </summary>
public sealed class LoopbackOpenAI : IAsyncDisposable
{
    public const string OpenAIKey = "sk-test-openai";
    public const string AzureKey = "azure-test-key";
    public const string ArmToken = "arm-test-token";
    /// <summary>An Entra ID token for Azure OpenAI's data plane (scope https://cognitiveservices.azure.com/.default).</summary>
    public const string EntraToken = "entra-test-token";
    public const string BaseAnswer = "I am not sure. Please contact support.";

    readonly WebApplication _app;
    readonly X509Certificate2 _certificate;
    readonly ConcurrentDictionary<string, StoredFile> _files = new();
    readonly ConcurrentDictionary<string, Job> _jobs = new();
    readonly ConcurrentDictionary<string, JsonObject> _deployments = new();
    readonly ConcurrentQueue<Fault> _faults = new();
    readonly object _lock = new();
    int _ids;

    /// <param name="Headers">Every request header as "name: value" lines.</param>
    public sealed record Request(string Method, string Path, string Query, int Status, DateTimeOffset At)
    {
        public string Headers { get; init; } = "";
        public string Body { get; init; } = "";
    }
    public ConcurrentQueue<Request> Requests { get; } = new();

    /// <summary>How the next job created behaves: polls spent running (one metrics event each), and the error it fails with (null = it succeeds).</summary>
    public int RunningPolls { get; set; } = 3;
    public (string Code, string Message)? FailWith { get; set; }

    LoopbackOpenAI(WebApplication app, X509Certificate2 certificate)
    {
        _app = app;
        _certificate = certificate;
    }

    /// <summary>The HTTPS root (ARM's bearer tokens travel over TLS only).</summary>
    public Uri Root => new(_app.Urls.First(u => u.StartsWith("https:", StringComparison.Ordinal)));
    /// <summary>The plain-HTTP root, for a child process that cannot be told to trust this server's certificate.</summary>
    public Uri PlainRoot => new(_app.Urls.First(u => u.StartsWith("http:", StringComparison.Ordinal)));
    public Uri OpenAIBase => new(Root, "v1");
    public string AccountId => "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-stune/providers/Microsoft.CognitiveServices/accounts/stune-oai";

    /// <summary>An HTTP client that trusts this server's certificate (and nothing else).</summary>
    public HttpClient Client() => new(new SocketsHttpHandler
    {
        SslOptions = { RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate?.GetCertHashString() == _certificate.GetCertHashString() },
    });

    public IReadOnlyCollection<Job> Jobs => [.. _jobs.Values];
    public IReadOnlyDictionary<string, JsonObject> Deployments => _deployments;
    public IReadOnlyCollection<StoredFile> Files => [.. _files.Values];

    /// <summary>The next <paramref name="count"/> requests matching method and path (a suffix) fail with <paramref name="status"/>.</summary>
    /// <param name="message">The error's message; null = the service's usual words for that status.</param>
    public void Fail(string method, string pathEnd, int status, int count = 1, int retryAfterMs = 0, string? message = null)
    {
        for (int i = 0; i < count; i++) _faults.Enqueue(new Fault(method, pathEnd, status, retryAfterMs, message));
    }

    /// <summary>A deployment of <paramref name="model"/> made by other means than ARM (by hand, or by an earlier run).</summary>
    public void Deploy(string name, string model) => _deployments[name] = new JsonObject
    {
        ["name"] = name, ["sku"] = new JsonObject { ["name"] = "Standard", ["capacity"] = 1 },
        ["properties"] = new JsonObject { ["model"] = new JsonObject { ["format"] = "OpenAI", ["name"] = model, ["version"] = "1" }, ["provisioningState"] = "Succeeded" },
    };

    /// <summary>Lets every running job finish on its next poll.</summary>
    public void FinishJobs()
    {
        foreach (var job in _jobs.Values) job.RunningPolls = 0;
        RunningPolls = 0;
    }

    public static async Task<LoopbackOpenAI> StartAsync()
    {
        var certificate = SelfSigned();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(certificate));
            k.Listen(IPAddress.Loopback, 0);
        });
        var app = builder.Build();
        var server = new LoopbackOpenAI(app, certificate);
        app.Run(server.HandleAsync);
        await app.StartAsync();
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _certificate.Dispose();
    }

    async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        string path = request.Path.Value ?? "";
        string headers = string.Join("\n", request.Headers.Select(h => $"{h.Key}: {h.Value}"));
        string body = "";
        // JSON bodies are kept for the tests to read (uploads are multipart, kept as files instead).
        if (request.ContentType?.StartsWith("application/json", StringComparison.Ordinal) == true)
        {
            request.EnableBuffering();
            body = await new StreamReader(request.Body).ReadToEndAsync();
            request.Body.Position = 0;
        }
        int status;
        try
        {
            status = await RouteAsync(context, request.Method, path);
        }
        catch (Exception e)
        {
            status = 500;
            await Error(context, 500, $"loopback server: {e.Message}", "server_error");
        }
        Requests.Enqueue(new Request(request.Method, path, request.QueryString.Value ?? "", status, DateTimeOffset.UtcNow) { Headers = headers, Body = body });
    }

    async Task<int> RouteAsync(HttpContext context, string method, string path)
    {
        if (NextFault(method, path) is { } fault)
        {
            if (fault.RetryAfterMs > 0) context.Response.Headers["retry-after-ms"] = fault.RetryAfterMs.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return await Error(context, fault.Status, fault.Message ?? (fault.Status == 429 ? "Rate limit reached. Please retry after the time the retry-after header gives."
                    : fault.Status >= 500 ? "The server had an error while processing your request." : "Invalid request."),
                fault.Status == 429 ? "rate_limit_exceeded" : fault.Status >= 500 ? "server_error" : "invalid_request_error");
        }
        if (path.StartsWith("/subscriptions/", StringComparison.Ordinal)) return await ArmAsync(context, method, path);

        // OpenAI: /v1/... with a bearer key; Azure OpenAI: /openai/... (and /openai/v1/...) with an api-key header.
        string rest;
        if (path.StartsWith("/v1/", StringComparison.Ordinal))
        {
            if (context.Request.Headers.Authorization != $"Bearer {OpenAIKey}") return await Error(context, 401, "Incorrect API key provided.", "invalid_api_key");
            rest = path[3..];
        }
        else if (path.StartsWith("/openai/", StringComparison.Ordinal))
        {
            if (context.Request.Headers["api-key"] != AzureKey && context.Request.Headers.Authorization != $"Bearer {EntraToken}")
                return await Error(context, 401, "Access denied due to invalid subscription key.", "401");
            bool v1 = path.StartsWith("/openai/v1/", StringComparison.Ordinal);
            // Azure OpenAI's dated data-plane API needs its api-version (the v1 API takes none).
            if (!v1 && context.Request.Query["api-version"].Count == 0)
                return await Error(context, 404, "Resource not found: missing api-version", "404");
            rest = v1 ? path[10..] : path[7..];
        }
        else return await Error(context, 404, $"no route {method} {path}", "not_found");

        var segments = rest.Trim('/').Split('/');
        return (method, segments) switch
        {
            ("POST", ["files"]) => await UploadAsync(context),
            ("GET", ["files"]) => await Json(context, 200, List(_files.Values.OrderByDescending(f => f.Created).Select(f => f.ToJson()))),
            ("GET", ["files", var id]) => _files.TryGetValue(id, out var file) ? await Json(context, 200, file.ToJson()) : await Error(context, 404, $"No such File object: {id}", "not_found"),
            ("POST", ["fine_tuning", "jobs"]) => await CreateJobAsync(context),
            ("GET", ["fine_tuning", "jobs"]) => await Json(context, 200, List(_jobs.Values.OrderByDescending(j => j.Created).Select(j => j.ToJson()))),
            ("GET", ["fine_tuning", "jobs", var id]) => await WithJob(context, id, job => { Advance(job); return Json(context, 200, job.ToJson()); }),
            ("GET", ["fine_tuning", "jobs", var id, "events"]) => await WithJob(context, id, job => Json(context, 200, Page(job.Events, context))),
            ("GET", ["fine_tuning", "jobs", var id, "checkpoints"]) => await WithJob(context, id, job => Json(context, 200, Page(job.Checkpoints, context))),
            ("POST", ["fine_tuning", "jobs", var id, "cancel"]) => await WithJob(context, id, job => { Cancel(job); return Json(context, 200, job.ToJson()); }),
            ("POST", ["chat", "completions"]) => await ChatAsync(context, null),
            ("POST", ["deployments", var deployment, "chat", "completions"]) => await ChatAsync(context, deployment),
            _ => await Error(context, 404, $"no route {method} {path}", "not_found"),
        };
    }

    Fault? NextFault(string method, string path)
    {
        lock (_lock)
        {
            if (_faults.TryPeek(out var fault) && fault.Method == method && path.EndsWith(fault.PathEnd, StringComparison.Ordinal))
                return _faults.TryDequeue(out var taken) ? taken : null;
            return null;
        }
    }

    async Task<int> UploadAsync(HttpContext context)
    {
        var form = await context.Request.ReadFormAsync();
        var upload = form.Files["file"];
        if (upload is null || form["purpose"] != "fine-tune") return await Error(context, 400, "'file' and purpose 'fine-tune' are required", "invalid_request_error");
        using var buffer = new MemoryStream();
        await upload.CopyToAsync(buffer);
        var file = new StoredFile($"file-{Next()}", upload.FileName, buffer.ToArray(), Now());
        _files[file.Id] = file;
        return await Json(context, 200, file.ToJson());
    }

    async Task<int> CreateJobAsync(HttpContext context)
    {
        var body = (await JsonNode.ParseAsync(context.Request.Body))!.AsObject();
        string trainingFile = body["training_file"]?.GetValue<string>() ?? "";
        if (!_files.ContainsKey(trainingFile)) return await Error(context, 400, $"invalid training_file: {trainingFile}", "invalid_request_error");
        var job = new Job($"ftjob-{Next()}", body, Now(), RunningPolls, FailWith);
        _jobs[job.Id] = job;
        job.AddEvent("message", $"Created fine-tuning job: {job.Id}", null);
        return await Json(context, 200, job.ToJson());
    }

    async Task<int> WithJob(HttpContext context, string id, Func<Job, Task<int>> handle) =>
        _jobs.TryGetValue(id, out var job) ? await handle(job) : await Error(context, 404, $"No such fine-tuning job: {id}", "not_found");

    /// <summary>One state per poll: validating_files, queued, running (a metrics event and a checkpoint per poll), then the end.</summary>
    void Advance(Job job)
    {
        lock (job)
        {
            switch (job.Status)
            {
                case "validating_files":
                    job.Status = "queued";
                    job.AddEvent("message", "Validating training file: done", null);
                    break;
                case "queued":
                    job.Status = "running";
                    job.AddEvent("message", "Fine-tuning job started", null);
                    break;
                case "running" when job.RunningPolls > 0 || job.Step == 0:
                    job.RunningPolls--;
                    job.Step++;
                    double loss = 2.0 / job.Step, valid = 2.2 / job.Step;
                    job.AddEvent("metrics", $"Step {job.Step}: training loss={loss:F4}", new JsonObject
                    {
                        ["step"] = job.Step, ["train_loss"] = loss, ["valid_loss"] = valid, ["total_steps"] = job.Step + Math.Max(job.RunningPolls, 0),
                        ["train_mean_token_accuracy"] = 0.5,
                    });
                    job.Checkpoints.Insert(0, new JsonObject
                    {
                        ["object"] = "fine_tuning.job.checkpoint", ["id"] = $"ftckpt_{job.Id}_{job.Step}", ["created_at"] = Now(),
                        ["fine_tuned_model_checkpoint"] = $"{job.FineTunedName}:ckpt-step-{job.Step}", ["fine_tuning_job_id"] = job.Id, ["step_number"] = job.Step,
                        ["metrics"] = new JsonObject { ["step"] = job.Step, ["train_loss"] = loss, ["train_mean_token_accuracy"] = 0.5, ["valid_loss"] = valid,
                            ["valid_mean_token_accuracy"] = 0.5, ["full_valid_loss"] = valid, ["full_valid_mean_token_accuracy"] = 0.5 },
                    });
                    break;
                case "running" when job.Failure is { } failure:
                    job.Status = "failed";
                    job.Error = new JsonObject { ["code"] = failure.Code, ["message"] = failure.Message, ["param"] = "training_file" };
                    job.AddEvent("message", $"Fine-tuning job failed: {failure.Message}", null);
                    break;
                case "running":
                    job.Status = "succeeded";
                    job.FineTunedModel = job.FineTunedName;
                    job.AddEvent("message", "The job has successfully completed", null);
                    break;
            }
        }
    }

    static void Cancel(Job job)
    {
        lock (job)
        {
            if (job.Status is "succeeded" or "failed" or "cancelled") return;
            job.Status = "cancelled";
            job.AddEvent("message", "Fine-tuning job cancelled", null);
        }
    }

    async Task<int> ChatAsync(HttpContext context, string? deployment)
    {
        var body = (await JsonNode.ParseAsync(context.Request.Body))!.AsObject();
        string model = deployment is null ? body["model"]!.GetValue<string>() : DeployedModel(deployment);
        if (model.Length == 0) return await Error(context, 404, $"The API deployment {deployment} does not exist.", "DeploymentNotFound");
        string question = body["messages"]!.AsArray().Last(m => m!["role"]!.GetValue<string>() == "user")!["content"]!.GetValue<string>();
        var job = _jobs.Values.FirstOrDefault(j => j.FineTunedModel == model);
        string answer = job is null ? BaseAnswer : Nearest(_files[job.TrainingFile], question);
        string id = $"chatcmpl-{Next()}";
        var usage = new JsonObject { ["prompt_tokens"] = 12, ["completion_tokens"] = 9, ["total_tokens"] = 21 };
        if (body["stream"]?.GetValue<bool>() == true)
            return await StreamAsync(context, id, model, answer, body["stream_options"]?["include_usage"]?.GetValue<bool>() == true ? usage : null);
        return await Json(context, 200, new JsonObject
        {
            ["id"] = id, ["object"] = "chat.completion", ["created"] = Now(), ["model"] = model,
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0, ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = answer, ["refusal"] = null },
                ["logprobs"] = null, ["finish_reason"] = "stop",
            }),
            ["usage"] = usage,
            ["system_fingerprint"] = "fp_loopback",
        });
    }

    /// <summary>The answer as chat.completion.chunk events: the role, a word per event, the finish reason, the usage when asked, [DONE].</summary>
    static async Task<int> StreamAsync(HttpContext context, string id, string model, string answer, JsonObject? usage)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        long created = Now();
        JsonObject Chunk(JsonObject? delta, string? finish) => new()
        {
            ["id"] = id, ["object"] = "chat.completion.chunk", ["created"] = created, ["model"] = model, ["system_fingerprint"] = "fp_loopback",
            ["choices"] = delta is null ? new JsonArray() : new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["logprobs"] = null, ["finish_reason"] = finish }),
        };
        async Task Send(JsonNode payload)
        {
            await context.Response.WriteAsync($"data: {payload.ToJsonString()}\n\n");
            await context.Response.Body.FlushAsync();
        }
        await Send(Chunk(new JsonObject { ["role"] = "assistant", ["content"] = "", ["refusal"] = null }, null));
        var words = answer.Split(' ');
        for (int i = 0; i < words.Length; i++) await Send(Chunk(new JsonObject { ["content"] = (i == 0 ? "" : " ") + words[i] }, null));
        await Send(Chunk(new JsonObject(), "stop"));
        if (usage is not null)
        {
            var last = Chunk(null, null);
            last["usage"] = usage.DeepClone();
            await Send(last);
        }
        await context.Response.WriteAsync("data: [DONE]\n\n");
        return 200;
    }

    /// <summary>The model a deployment serves: a base deployment is named like its model, a fine-tuned one was PUT through ARM.</summary>
    string DeployedModel(string deployment) =>
        _deployments.TryGetValue(deployment, out var d) ? d["properties"]!["model"]!["name"]!.GetValue<string>()
        : deployment.StartsWith("gpt-", StringComparison.Ordinal) ? deployment : "";

    /// <summary>The assistant turn of the training example whose question shares the most words with this one.</summary>
    static string Nearest(StoredFile file, string question)
    {
        var words = Words(question);
        string best = BaseAnswer;
        double score = -1;
        foreach (var line in System.Text.Encoding.UTF8.GetString(file.Content).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var messages = JsonNode.Parse(line)!["messages"]!.AsArray();
            var user = messages.LastOrDefault(m => m!["role"]!.GetValue<string>() == "user");
            var assistant = messages.LastOrDefault(m => m!["role"]!.GetValue<string>() == "assistant");
            if (user is null || assistant is null) continue;
            var other = Words(user["content"]!.GetValue<string>());
            double jaccard = (double)words.Intersect(other).Count() / Math.Max(1, words.Union(other).Count());
            if (jaccard > score) (score, best) = (jaccard, assistant["content"]!.GetValue<string>());
        }
        return best;
    }

    static HashSet<string> Words(string text) =>
        [.. text.ToLowerInvariant().Split([' ', '?', '.', ',', '!'], StringSplitOptions.RemoveEmptyEntries)];

    async Task<int> ArmAsync(HttpContext context, string method, string path)
    {
        if (context.Request.Headers.Authorization != $"Bearer {ArmToken}")
            return await ArmError(context, 401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.");
        string prefix = AccountId + "/deployments/";
        if (!path.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) || context.Request.Query["api-version"].Count == 0)
            return await ArmError(context, 404, "ResourceNotFound", $"The Resource '{path}' was not found.");
        string name = path[prefix.Length..];
        if (method == "PUT")
        {
            var body = (await JsonNode.ParseAsync(context.Request.Body))!.AsObject();
            if (body["properties"]?["model"]?["name"] is null || body["sku"]?["name"] is null)
                return await ArmError(context, 400, "InvalidResourceProperties", "The specified deployment properties are invalid.");
            bool created = !_deployments.ContainsKey(name);
            var deployment = new JsonObject
            {
                ["id"] = path, ["type"] = "Microsoft.CognitiveServices/accounts/deployments", ["name"] = name, ["sku"] = body["sku"]!.DeepClone(),
                ["properties"] = new JsonObject { ["model"] = body["properties"]!["model"]!.DeepClone(), ["provisioningState"] = created ? "Creating" : "Updating" },
            };
            _deployments[name] = deployment;
            return await Json(context, created ? 201 : 200, deployment);
        }
        if (method == "GET" && _deployments.TryGetValue(name, out var existing))
        {
            existing["properties"]!["provisioningState"] = "Succeeded";
            return await Json(context, 200, existing);
        }
        return await ArmError(context, 404, "DeploymentNotFound", $"Deployment {name} not found.");
    }

    static JsonObject List(IEnumerable<JsonObject> items) => new() { ["object"] = "list", ["data"] = new JsonArray([.. items]), ["has_more"] = false };

    /// <summary>A newest-first list page: items after the "after" id, at most "limit".</summary>
    static JsonObject Page(IReadOnlyList<JsonObject> newestFirst, HttpContext context)
    {
        IEnumerable<JsonObject> items;
        lock (newestFirst) items = [.. newestFirst];
        if (context.Request.Query["after"].FirstOrDefault() is { Length: > 0 } after)
            items = items.SkipWhile(i => i["id"]!.GetValue<string>() != after).Skip(1);
        int limit = int.TryParse(context.Request.Query["limit"], out int l) ? l : 20;
        var page = items.Take(limit + 1).ToList();
        return new JsonObject
        {
            ["object"] = "list", ["data"] = new JsonArray([.. page.Take(limit).Select(i => i.DeepClone())]), ["has_more"] = page.Count > limit,
        };
    }

    static async Task<int> Json(HttpContext context, int status, JsonNode body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString());
        return status;
    }

    static Task<int> Error(HttpContext context, int status, string message, string code) => Json(context, status, new JsonObject
    {
        ["error"] = new JsonObject { ["message"] = message, ["type"] = status == 429 ? "requests" : "invalid_request_error", ["param"] = null, ["code"] = code },
    });

    static Task<int> ArmError(HttpContext context, int status, string code, string message) =>
        Json(context, status, new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = message } });

    int Next() => Interlocked.Increment(ref _ids);

    static long Now() => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    static X509Certificate2 SelfSigned()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), null);
    }

    sealed record Fault(string Method, string PathEnd, int Status, int RetryAfterMs, string? Message);

    public sealed record StoredFile(string Id, string Name, byte[] Content, long Created)
    {
        public JsonObject ToJson() => new()
        {
            ["id"] = Id, ["object"] = "file", ["bytes"] = Content.Length, ["created_at"] = Created, ["filename"] = Name, ["purpose"] = "fine-tune",
            ["status"] = "processed", ["status_details"] = null,
        };
    }

    public sealed class Job(string id, JsonObject request, long created, int runningPolls, (string Code, string Message)? failure)
    {
        public string Id { get; } = id;
        public JsonObject Request { get; } = request;
        public long Created { get; } = created;
        public string TrainingFile => Request["training_file"]!.GetValue<string>();
        public string Model => Request["model"]!.GetValue<string>();
        public string FineTunedName => $"{Model}.ft-{Id[6..]}";
        public int RunningPolls { get; set; } = runningPolls;
        public (string Code, string Message)? Failure { get; } = failure;
        public string Status { get; set; } = "validating_files";
        public int Step { get; set; }
        public string? FineTunedModel { get; set; }
        public JsonObject? Error { get; set; }
        public List<JsonObject> Events { get; } = [];
        public List<JsonObject> Checkpoints { get; } = [];

        public void AddEvent(string type, string message, JsonObject? data)
        {
            lock (Events)
                Events.Insert(0, new JsonObject
                {
                    ["object"] = "fine_tuning.job.event", ["id"] = $"ftevent-{Id[6..]}-{Events.Count + 1}", ["created_at"] = Now(), ["level"] = "info",
                    ["message"] = message, ["data"] = data, ["type"] = type,
                });
        }

        public JsonObject ToJson()
        {
            lock (this)
                return new JsonObject
                {
                    ["object"] = "fine_tuning.job", ["id"] = Id, ["model"] = Model, ["created_at"] = Created,
                    ["finished_at"] = Status is "succeeded" or "failed" or "cancelled" ? Now() : null,
                    ["fine_tuned_model"] = FineTunedModel, ["organization_id"] = "org-loopback", ["result_files"] = new JsonArray(), ["status"] = Status,
                    ["validation_file"] = Request["validation_file"]?.DeepClone(), ["training_file"] = TrainingFile,
                    ["hyperparameters"] = new JsonObject { ["n_epochs"] = "auto", ["batch_size"] = "auto", ["learning_rate_multiplier"] = "auto" },
                    ["method"] = Request["method"]?.DeepClone(),
                    ["trained_tokens"] = Status == "succeeded" ? 12345 : null, ["error"] = Error?.DeepClone(),
                    ["user_provided_suffix"] = Request["suffix"]?.DeepClone(), ["seed"] = Request["seed"]?.DeepClone() ?? 1234,
                    ["estimated_finish"] = null, ["integrations"] = new JsonArray(), ["metadata"] = null,
                };
        }
    }
}
