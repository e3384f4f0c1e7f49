using ServerlessTune.Core.Storage;

namespace ServerlessTune.Core.Tests.Storage;

public sealed class AtomicFileTests : IDisposable
{
    readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_writer_that_fails_leaves_the_old_content_and_no_temporary_file()
    {
        string path = _dir.Write("report.json", "old");

        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write("partial"u8);
            throw new InvalidOperationException("crash mid-write");
        }));

        Assert.Equal("old", File.ReadAllText(path));
        Assert.Equal([path], Directory.GetFiles(_dir.Path));
    }

    [Fact]
    public async Task The_async_writer_replaces_the_file_and_creates_its_folder()
    {
        string path = _dir.File("runs/r1/metrics.jsonl");

        await AtomicFile.WriteAsync(path, (stream, ct) => stream.WriteAsync("{\"step\":1}\n"u8.ToArray(), ct).AsTask());
        await AtomicFile.WriteAsync(path, (stream, ct) => stream.WriteAsync("{\"step\":2}\n"u8.ToArray(), ct).AsTask());

        Assert.Equal("{\"step\":2}\n", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!));
    }

    [Fact]
    public void A_folder_is_replaced_whole_and_a_failed_fill_leaves_the_old_one()
    {
        string folder = _dir.File("step-4");
        AtomicFile.WriteFolder(folder, temp => File.WriteAllText(Path.Combine(temp, "a.bin"), "first"));
        AtomicFile.WriteFolder(folder, temp => File.WriteAllText(Path.Combine(temp, "b.bin"), "second"));

        Assert.Throws<IOException>(() => AtomicFile.WriteFolder(folder, temp =>
        {
            File.WriteAllText(Path.Combine(temp, "c.bin"), "torn");
            throw new IOException("disk full");
        }));

        Assert.Equal(["b.bin"], Directory.GetFiles(folder).Select(Path.GetFileName));
        Assert.Equal([folder], Directory.GetDirectories(_dir.Path));
    }

    [Fact]
    public void Temporary_names_are_recognised_so_listings_can_skip_them()
    {
        Assert.True(AtomicFile.IsTemporary("runs/r1/metrics.jsonl.0f2a.tmp"));
        Assert.False(AtomicFile.IsTemporary("runs/r1/metrics.jsonl"));
    }
}
