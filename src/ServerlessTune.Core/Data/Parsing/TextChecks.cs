using System.Text.Unicode;

namespace ServerlessTune.Core.Data.Parsing;

/// <summary>
/// What every record's raw bytes pass before they are decoded: no NUL byte (it never belongs in text, so one rejects
/// its record and the rest of the file is read), and valid UTF-8 (files in UTF-16 or UTF-32 are decoded by their BOM
/// before this, see <see cref="InputStream"/>).
/// </summary>
public static class TextChecks
{
    /// <param name="line">Named in the message for a record of several lines (a transcript conversation, a passage).</param>
    public static Rejection? Reject(ReadOnlySpan<byte> utf8, long? line = null)
    {
        int nul = utf8.IndexOf((byte)0);
        if (nul >= 0) return new Rejection(RejectReason.NulByte, $"NUL byte{On(line)} at byte {nul + 1}");
        if (!Utf8.IsValid(utf8)) return new Rejection(RejectReason.InvalidUtf8, $"invalid UTF-8{On(line)} at byte {FirstInvalidByte(utf8)}");
        return null;
    }

    static string On(long? line) => line is null ? "" : $" on line {line}";

    static int FirstInvalidByte(ReadOnlySpan<byte> bytes)
    {
        var status = Utf8.ToUtf16(bytes, new char[bytes.Length], out int read, out _, replaceInvalidSequences: false);
        return status == System.Buffers.OperationStatus.Done ? -1 : read + 1;
    }
}
