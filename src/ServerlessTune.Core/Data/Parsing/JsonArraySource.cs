using System.Runtime.CompilerServices;

namespace ServerlessTune.Core.Data.Parsing;

/// <summary>
/// A JSON array of records (e.g. [{"question": ..., "answer": ...}, ...]) split into its elements while
/// streaming: only one element is buffered at a time, and each keeps the line where it starts.
/// </summary>
public sealed class JsonArraySource(int maxRecordBytes) : IRecordSource
{
    public async IAsyncEnumerable<RawRecord> ReadAsync(Stream input, [EnumeratorCancellation] CancellationToken ct)
    {
        var buffer = new byte[1 << 16];
        var element = new MemoryStream();
        long line = 1, elementLine = 0, elementLength = 0;
        int depth = 0;
        bool inString = false, escaped = false, inElement = false, closed = false, first = true;
        int read;
        while ((read = await input.ReadAsync(buffer, ct)) > 0)
        {
            int start = 0;
            if (first && read >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF) start = 3;
            first = false;
            for (int i = start; i < read; i++)
            {
                byte b = buffer[i];
                if (b == '\n') line++;
                if (closed)
                {
                    if (IsSpace(b)) continue;
                    yield return new ReadyRecord(line, new Rejection(RejectReason.InvalidJson, "invalid JSON: content after the closing ']'"));
                    yield break;
                }
                if (!inElement)
                {
                    if (IsSpace(b) || (depth == 1 && b == ',')) continue;
                    if (depth == 0)
                    {
                        if (b == '[') { depth = 1; continue; }
                        yield return new ReadyRecord(line, new Rejection(RejectReason.InvalidJson, "invalid JSON: the file is not a JSON array"));
                        yield break;
                    }
                    if (b == ']') { depth = 0; closed = true; continue; }
                    inElement = true;
                    elementLine = line;
                    elementLength = 0;
                    element.SetLength(0);
                }
                if (inString)
                {
                    if (escaped) escaped = false;
                    else if (b == '\\') escaped = true;
                    else if (b == '"') inString = false;
                }
                else if (b == '"') inString = true;
                else if (b is (byte)'{' or (byte)'[') depth++;
                else if (b is (byte)'}' or (byte)']' && depth > 1) depth--;
                else if (depth == 1 && b is (byte)',' or (byte)']')
                {
                    yield return Element(elementLine, element, elementLength);
                    inElement = false;
                    if (b == ']') { depth = 0; closed = true; }
                    continue;
                }
                elementLength++;
                if (elementLength <= maxRecordBytes) element.WriteByte(b);
            }
        }
        if (inElement) yield return Element(elementLine, element, elementLength);
    }

    RawRecord Element(long line, MemoryStream element, long length) => length > maxRecordBytes
        ? JsonLinesSource.TooLarge(line, length, maxRecordBytes)
        : new JsonRecord(line, element.ToArray());

    static bool IsSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n';
}
