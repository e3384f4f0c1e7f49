using ServerlessTune.Core.Modeling.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Modeling.Peft;

/// <summary>
/// Puts LoRA adapters on the projections whose names match the target patterns and freezes everything
/// else, so only adapter tensors get gradients and optimizer state.
/// </summary>
public static class LoraInjector
{
    /// <summary>A pattern matches a module whose last name segment equals it, or whose full name ends with "." + it,
    /// the way PEFT matches target_modules given as a list.</summary>
    public static bool Matches(string moduleName, string pattern) =>
        moduleName == pattern || moduleName.EndsWith("." + pattern, StringComparison.Ordinal);

    /// <summary>Projections matched by the patterns; a pattern that matches no projection is a user error
    /// naming the projections that exist.</summary>
    public static IReadOnlyList<(string Name, LinearLayer Layer)> FindTargets(nn.Module model, IReadOnlyList<string> patterns)
    {
        var projections = model.named_modules()
            .Where(m => m.module is LinearLayer)
            .Select(m => (Name: m.name, Layer: (LinearLayer)m.module))
            .ToList();
        foreach (var pattern in patterns)
        {
            if (projections.Any(p => Matches(p.Name, pattern))) continue;
            var names = projections.Select(p => p.Name.Split('.')[^1]).Distinct().Order(StringComparer.Ordinal);
            throw new UserInputException($"--lora-targets: no projection named '{pattern}' in this model; it has {string.Join(", ", names)}");
        }
        return projections.Where(p => patterns.Any(pattern => Matches(p.Name, pattern))).ToList();
    }

    /// <summary>Attaches adapters and freezes the base; returns the trainable (adapter) parameters by state-dict name.</summary>
    public static IReadOnlyList<(string Name, Parameter Parameter)> Attach(nn.Module model, IReadOnlyList<string> patterns,
        int rank, double alpha, double dropout)
    {
        var targets = FindTargets(model, patterns);
        foreach (var (_, parameter) in model.named_parameters()) parameter.requires_grad = false;
        foreach (var (_, layer) in targets) layer.AttachLora(rank, alpha, dropout);
        return AdapterParameters(model);
    }

    public static IReadOnlyList<(string Name, Parameter Parameter)> AdapterParameters(nn.Module model) =>
        model.named_parameters().Where(p => IsAdapterTensor(p.name)).ToList();

    public static bool IsAdapterTensor(string name) => name.Contains(".lora_A.") || name.Contains(".lora_B.");

    /// <summary>The short module names PEFT records as target_modules (e.g. q_proj, v_proj).</summary>
    public static IReadOnlyList<string> TargetModuleNames(nn.Module model) =>
        model.named_modules()
            .Where(m => m.module is LinearLayer { HasLora: true })
            .Select(m => m.name.Split('.')[^1])
            .Distinct()
            .Order(StringComparer.Ordinal)
            .ToList();

    public static void MergeAll(nn.Module model)
    {
        foreach (var (_, module) in model.named_modules())
            if (module is LinearLayer { HasLora: true } layer) layer.MergeLora();
    }
}
