using System.Diagnostics;

namespace ServerlessTune.Core.Tests.Build;

/// <summary>
/// The build step that makes TorchSharp load on old-libstdc++ Linux: it patches only where the system
/// library lacks GLIBCXX_3.4.32, and then changes exactly the one version-need flag.
/// (TorchRuntimeTests proves the patched library actually loads and computes.)
/// </summary>
public sealed class LibTorchSharpPatchTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("stune-patch-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Old_libstdcxx_gets_exactly_one_flag_byte_changed()
    {
        byte[] original = CopyOriginalLibrary();
        string fakeStdCxx = FakeLibStdCxx("GLIBCXX_3.4.29\0GLIBCXX_3.4.30\0");

        RunPatchTarget(fakeStdCxx);

        byte[] patched = File.ReadAllBytes(Path.Combine(_dir, "lib", "libLibTorchSharp.so"));
        Assert.Equal(original.Length, patched.Length);
        var changed = Enumerable.Range(0, original.Length).Where(i => original[i] != patched[i]).ToArray();
        Assert.Single(changed);
        Assert.Equal(0x02, patched[changed[0]] & ~original[changed[0]]); // VER_FLG_WEAK added, nothing else

        RunPatchTarget(fakeStdCxx); // a second build leaves the patched library as it is
        Assert.Equal(patched, File.ReadAllBytes(Path.Combine(_dir, "lib", "libLibTorchSharp.so")));
    }

    [Fact]
    public void New_libstdcxx_leaves_the_library_untouched()
    {
        byte[] original = CopyOriginalLibrary();
        RunPatchTarget(FakeLibStdCxx("GLIBCXX_3.4.31\0GLIBCXX_3.4.32\0GLIBCXX_3.4.33\0"));
        Assert.Equal(original, File.ReadAllBytes(Path.Combine(_dir, "lib", "libLibTorchSharp.so")));
    }

    byte[] CopyOriginalLibrary()
    {
        string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string source = Path.Combine(packages, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Directory.CreateDirectory(Path.Combine(_dir, "lib"));
        File.Copy(source, Path.Combine(_dir, "lib", "libLibTorchSharp.so"));
        return File.ReadAllBytes(source);
    }

    string FakeLibStdCxx(string versionStrings)
    {
        string path = Path.Combine(_dir, "libstdc++.so.6");
        File.WriteAllBytes(path, System.Text.Encoding.ASCII.GetBytes("\u007fELF...." + versionStrings));
        return path;
    }

    void RunPatchTarget(string libStdCxx)
    {
        string targets = Path.Combine(RepositoryRoot(), "build", "TorchSharp.targets");
        string project = Path.Combine(_dir, "patch.proj");
        File.WriteAllText(project, $"""
            <Project>
              <Import Project="{targets}" />
              <Target Name="Patch"><PatchLibTorchSharp Directory="{Path.Combine(_dir, "lib")}" SystemLibStdCxx="{libStdCxx}" /></Target>
            </Project>
            """);
        var info = new ProcessStartInfo("dotnet", ["msbuild", project, "-t:Patch", "-nologo", "-v:q", "-nodeReuse:false"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("dotnet msbuild -t:Patch did not end within 5 minutes");
        }
        Assert.True(process.ExitCode == 0, stdout.Result + stderr.Result);
    }

    // From the source file, not the output folder: builds may place outputs anywhere (--artifacts-path).
    static string RepositoryRoot([System.Runtime.CompilerServices.CallerFilePath] string sourceFile = "")
    {
        var dir = new DirectoryInfo(Path.GetDirectoryName(sourceFile)!);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "ServerlessTune.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("ServerlessTune.sln not found above the test folder");
    }
}
