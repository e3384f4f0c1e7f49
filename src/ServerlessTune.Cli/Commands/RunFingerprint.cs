using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ServerlessTune.Workflow;

namespace ServerlessTune.Cli.Commands;

/// <summary>
/// What makes two `stune run` commands "the same": the project, every file of the dataset folder (relative path and
/// content) and the parsed options. A rerun with the same fingerprint continues the project's unfinished run.
/// </summary>
internal static class RunFingerprint
{
    public static string Of(DirectoryInfo folder, PipelineInput input)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(JsonSerializer.SerializeToUtf8Bytes(input, new JsonSerializerOptions(JsonSerializerDefaults.Web)));
        foreach (var file in folder.EnumerateFiles("*", SearchOption.AllDirectories).OrderBy(f => f.FullName, StringComparer.Ordinal))
        {
            hash.AppendData(Encoding.UTF8.GetBytes(Path.GetRelativePath(folder.FullName, file.FullName) + "\0"));
            using var stream = file.OpenRead();
            hash.AppendData(SHA256.HashData(stream));
        }
        return "sha256:" + Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
