namespace ServerlessTune.Core.Data.Output;

/// <summary>manifest.json, written last: what went in and what came out, each with size and SHA-256.</summary>
public sealed record PrepareManifest(string DatasetVersion, string Generator, IReadOnlyList<InputFile> Inputs, IReadOnlyList<OutputFile> Outputs);

public sealed record InputFile(string Path, string Format, long Size, string Sha256);
