using Microsoft.Extensions.Logging;
using ServerlessTune.Core.Generation;
using ServerlessTune.Core.Modeling;
using ServerlessTune.Serving.Engine;

namespace ServerlessTune.Serving.Models;

/// <summary>
/// One loaded model version and its engine. Requests hold a lease for as long as they run, so a version that a
/// deploy replaced finishes what it started and is unloaded when its last lease ends.
/// </summary>
public sealed class ServedModel : IDisposable
{
    readonly Action? onUnload;
    readonly object gate = new();
    int leases;
    bool retired;
    bool disposed;

    public ServedModel(string version, string project, string source, DateTimeOffset created, ChatModel model, EngineLimits limits,
        ILogger log, Action? onUnload = null)
    {
        Version = version;
        Project = project;
        Source = source;
        Created = created;
        Model = model;
        this.onUnload = onUnload;
        Engine = new InferenceEngine(model, limits, log);
    }

    /// <summary>The served version: a registry version name, or the folder's name (the system_fingerprint).</summary>
    public string Version { get; }
    public string Project { get; }
    /// <summary>When the version was registered (the folder's time for a folder).</summary>
    public DateTimeOffset Created { get; }
    /// <summary>Where it came from, for logs and /health.</summary>
    public string Source { get; }
    public ChatModel Model { get; }
    /// <summary>How the weights are held, as loaded (reported by /v1/models and /health).</summary>
    public WeightFormat Format => Model.Format;
    public InferenceEngine Engine { get; }

    /// <summary>A lease for one request, or null once the version is retired (resolve again).</summary>
    public Lease? TryAcquire()
    {
        lock (gate)
        {
            if (retired) return null;
            leases++;
            return new Lease(this);
        }
    }

    /// <summary>No new requests; unloads when the last running one ends.</summary>
    public void Retire()
    {
        lock (gate)
        {
            retired = true;
            if (leases > 0) return;
        }
        Dispose();
    }

    void Release()
    {
        lock (gate)
        {
            if (--leases > 0 || !retired) return;
        }
        Dispose();
    }

    public void Dispose()
    {
        lock (gate)
        {
            if (disposed) return;
            disposed = true;
        }
        Engine.Dispose();
        Model.Dispose();
        onUnload?.Invoke();
    }

    /// <summary>Keeps the version loaded while a request uses it.</summary>
    public sealed class Lease(ServedModel model) : IDisposable
    {
        int released;
        public ServedModel Model { get; } = model;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref released, 1) == 0) Model.Release();
        }
    }
}
