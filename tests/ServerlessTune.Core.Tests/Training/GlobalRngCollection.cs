namespace ServerlessTune.Core.Tests.Training;

/// <summary>
/// Tests that seed torch's global generator (LoRA init, dropout, and model init, since TorchSharp 0.107's
/// nn.init ignores its generator argument) and then compare bits. They run alone, after the parallel
/// tests, so no other test draws from the generator in between.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GlobalRngCollection
{
    public const string Name = "torch global RNG";
}
