// MSBuild task (compiled by RoslynCodeTaskFactory): makes TorchSharp's native library load on Linux
// systems whose libstdc++ predates GLIBCXX_3.4.32 (Debian 12, Ubuntu 22.04).
//
// libLibTorchSharp.so is built with GCC 13, whose <iostream> emits a reference to
// std::ios_base_library_init() only to force a GLIBCXX_3.4.32 version dependency; no relocation
// uses that symbol, so nothing is called through it. Marking that one version need weak
// (VER_FLG_WEAK) lets the dynamic loader accept an older libstdc++. The task refuses to patch if
// any other symbol needs the version, because then the dependency would be real.
#nullable enable
using System;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public sealed class PatchLibTorchSharp : Task
{
    const string NeededVersion = "GLIBCXX_3.4.32";
    const string MarkerSymbol = "_ZSt21ios_base_library_initv";
    const uint ShtDynsym = 11, ShtGnuVerneed = 0x6ffffffe, ShtGnuVersym = 0x6fffffff;
    const ushort VerFlgWeak = 0x2;

    [Required] public string Directory { get; set; } = "";

    /// <summary>Overrides the libstdc++ probed; tests use it to exercise both branches.</summary>
    public string SystemLibStdCxx { get; set; } = "";

    public override bool Execute()
    {
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux)) return true;
        var libstdcxx = SystemLibStdCxx.Length > 0 ? SystemLibStdCxx : FindLibStdCxx();
        if (libstdcxx is null)
        {
            Log.LogMessage(MessageImportance.Normal, "PatchLibTorchSharp: no system libstdc++.so.6 found; nothing patched.");
            return true;
        }
        if (Contains(File.ReadAllBytes(libstdcxx), Encoding.ASCII.GetBytes(NeededVersion + "\0")))
        {
            Log.LogMessage(MessageImportance.Normal, $"PatchLibTorchSharp: {libstdcxx} provides {NeededVersion}; nothing patched.");
            return true;
        }
        if (!System.IO.Directory.Exists(Directory)) return true;
        foreach (var lib in System.IO.Directory.EnumerateFiles(Directory, "libLibTorchSharp.so", SearchOption.AllDirectories))
        {
            string? error = Patch(lib);
            if (error is not null)
            {
                Log.LogError($"PatchLibTorchSharp: {lib}: {error}");
                return false;
            }
        }
        return !Log.HasLoggedErrors;
    }

    static string? FindLibStdCxx()
    {
        string[] dirs = { "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64", "/lib64",
                          "/usr/lib/aarch64-linux-gnu", "/usr/lib" };
        return dirs.Select(d => Path.Combine(d, "libstdc++.so.6")).FirstOrDefault(File.Exists);
    }

    // The task runs on netstandard2.0, without span search.
    static bool Contains(byte[] haystack, byte[] needle)
    {
        for (int i = Array.IndexOf(haystack, needle[0]); i >= 0 && i <= haystack.Length - needle.Length;
             i = Array.IndexOf(haystack, needle[0], i + 1))
        {
            int k = 1;
            while (k < needle.Length && haystack[i + k] == needle[k]) k++;
            if (k == needle.Length) return true;
        }
        return false;
    }

    readonly struct Section
    {
        public Section(uint type, long offset, long size, int link, int info, long entSize)
        { Type = type; Offset = offset; Size = size; Link = link; Info = info; EntSize = entSize; }
        public uint Type { get; }
        public long Offset { get; }
        public long Size { get; }
        public int Link { get; }
        public int Info { get; }
        public long EntSize { get; }
    }

    /// <summary>Returns null on success (or when already patched / not needed), else the reason.</summary>
    static string? Patch(string path)
    {
        byte[] b = File.ReadAllBytes(path);
        if (b.Length < 64 || b[0] != 0x7f || b[1] != (byte)'E' || b[2] != (byte)'L' || b[3] != (byte)'F')
            return "not an ELF file";
        if (b[4] != 2 || b[5] != 1) return "only 64-bit little-endian ELF is supported";

        long shoff = BitConverter.ToInt64(b, 0x28);
        int shentsize = BitConverter.ToUInt16(b, 0x3A), shnum = BitConverter.ToUInt16(b, 0x3C);
        var sections = new Section[shnum];
        for (int i = 0; i < shnum; i++)
        {
            int o = checked((int)(shoff + (long)i * shentsize));
            sections[i] = new Section(BitConverter.ToUInt32(b, o + 4), BitConverter.ToInt64(b, o + 24),
                BitConverter.ToInt64(b, o + 32), (int)BitConverter.ToUInt32(b, o + 40),
                (int)BitConverter.ToUInt32(b, o + 44), BitConverter.ToInt64(b, o + 56));
        }

        int verneedIndex = Array.FindIndex(sections, s => s.Type == ShtGnuVerneed);
        if (verneedIndex < 0) return null;
        var verneed = sections[verneedIndex];
        long strtab = sections[verneed.Link].Offset;

        int auxOffset = -1; ushort versionIndex = 0;
        long vn = verneed.Offset;
        for (int n = 0; n < verneed.Info; n++)
        {
            int count = BitConverter.ToUInt16(b, (int)vn + 2);
            long aux = vn + BitConverter.ToUInt32(b, (int)vn + 8);
            for (int k = 0; k < count; k++)
            {
                uint name = BitConverter.ToUInt32(b, (int)aux + 8);
                if (ReadString(b, strtab + name) == NeededVersion)
                {
                    auxOffset = (int)aux;
                    versionIndex = BitConverter.ToUInt16(b, (int)aux + 6);
                }
                aux += BitConverter.ToUInt32(b, (int)aux + 12);
            }
            uint next = BitConverter.ToUInt32(b, (int)vn + 12);
            if (next == 0) break;
            vn += next;
        }
        if (auxOffset < 0) return null;

        string? otherUser = SymbolsNeeding(b, sections, versionIndex).FirstOrDefault(s => s != MarkerSymbol);
        if (otherUser is not null)
            return $"symbol {otherUser} really needs {NeededVersion}; install a libstdc++ from GCC 13 or newer instead";

        ushort flags = BitConverter.ToUInt16(b, auxOffset + 4);
        if ((flags & VerFlgWeak) != 0) return null;
        BitConverter.GetBytes((ushort)(flags | VerFlgWeak)).CopyTo(b, auxOffset + 4);
        string temp = path + ".patching";
        File.WriteAllBytes(temp, b);
        File.Delete(path);
        File.Move(temp, path);
        return null;
    }

    static System.Collections.Generic.IEnumerable<string> SymbolsNeeding(byte[] b, Section[] sections, ushort versionIndex)
    {
        int dynsymIndex = Array.FindIndex(sections, s => s.Type == ShtDynsym);
        int versymIndex = Array.FindIndex(sections, s => s.Type == ShtGnuVersym);
        if (dynsymIndex < 0 || versymIndex < 0) yield break;
        var dynsym = sections[dynsymIndex];
        long strtab = sections[dynsym.Link].Offset;
        long count = dynsym.Size / dynsym.EntSize;
        for (long i = 0; i < count; i++)
        {
            ushort version = (ushort)(BitConverter.ToUInt16(b, (int)(sections[versymIndex].Offset + 2 * i)) & 0x7fff);
            if (version != versionIndex) continue;
            uint name = BitConverter.ToUInt32(b, (int)(dynsym.Offset + i * dynsym.EntSize));
            yield return ReadString(b, strtab + name);
        }
    }

    static string ReadString(byte[] b, long offset)
    {
        int end = Array.IndexOf(b, (byte)0, (int)offset);
        return Encoding.ASCII.GetString(b, (int)offset, end - (int)offset);
    }
}
