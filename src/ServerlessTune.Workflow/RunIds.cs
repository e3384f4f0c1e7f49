using System.Security.Cryptography;

namespace ServerlessTune.Workflow;

/// <summary>Run ids name the orchestration instance and every artifact folder of the run, so they are safe path segments.</summary>
public static class RunIds
{
    /// <summary>Sortable by start time, unique by a random suffix: e.g. 20261124-093005-3f9a1c2e.</summary>
    public static string New(DateTimeOffset nowUtc) =>
        $"{nowUtc.UtcDateTime:yyyyMMdd-HHmmss}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";
}
