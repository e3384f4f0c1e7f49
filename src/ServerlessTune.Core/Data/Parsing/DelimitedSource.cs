using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Unicode;
using ServerlessTune.Core.Chat;

namespace ServerlessTune.Core.Data.Parsing;

/// <summary>Which columns of a FAQ table hold the question and the answer.</summary>
public sealed record DelimitedLayout(char Delimiter, int QuestionIndex, int AnswerIndex);

/// <summary>
/// FAQ tables in CSV or TSV per RFC 4180: quoted fields may hold delimiters, doubled quotes and line
/// breaks, so a record can span lines (its line number is where it starts). A header row is recognised
/// by its column names; otherwise the configured columns, or the first two, are used.
/// </summary>
public sealed class DelimitedSource(string sourceName, char defaultDelimiter, PrepareOptions options) : IRecordSource
{
    static readonly string[] QuestionNames = ["question", "questions", "q", "prompt", "query", "title", "subject", "input", "user", "customer", "usermessage"];
    static readonly string[] AnswerNames = ["answer", "answers", "a", "response", "reply", "completion", "output", "assistant", "agent", "resolution", "solution", "body"];

    public async IAsyncEnumerable<RawRecord> ReadAsync(Stream input, [EnumeratorCancellation] CancellationToken ct)
    {
        var reader = new LineReader(input, options.MaxRecordBytes);
        DelimitedLayout? layout = null;
        var record = new MemoryStream();
        long startLine = 0, length = 0;
        int quotes = 0;
        bool tooLarge = false;
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            if (startLine == 0)
            {
                if (line.Length == 0) continue;
                startLine = line.Number;
                length = 0; quotes = 0; tooLarge = false;
                record.SetLength(0);
            }
            else
            {
                length++;
                if (!tooLarge) record.WriteByte((byte)'\n');
            }
            length += line.Length;
            quotes += line.QuoteCount;
            tooLarge |= line.TooLarge || length > options.MaxRecordBytes;
            if (!tooLarge) record.Write(line.Bytes);
            if (quotes % 2 == 1) continue; // inside a quoted field: the line break belongs to the field

            long at = startLine;
            startLine = 0;
            if (tooLarge) { yield return JsonLinesSource.TooLarge(at, length, options.MaxRecordBytes); continue; }
            var bytes = record.ToArray();
            if (layout is null)
            {
                layout = DetectLayout(bytes, out bool isHeader);
                if (isHeader) continue;
            }
            yield return new DelimitedRow(at, bytes, layout);
        }
        if (startLine != 0)
            yield return new ReadyRecord(startLine, new Rejection(RejectReason.UnterminatedQuote, "a quoted field is not closed before the end of the file"));
    }

    DelimitedLayout DetectLayout(byte[] firstRecord, out bool isHeader)
    {
        string text = Encoding.UTF8.GetString(firstRecord);
        char delimiter = SniffDelimiter(text);
        var fields = DelimitedRow.SplitFields(text, delimiter);
        var names = fields.Select(Simplify).ToList();
        int question = FindByName(names, options.QuestionColumn, QuestionNames);
        int answer = FindByName(names, options.AnswerColumn, AnswerNames);
        isHeader = question >= 0 || answer >= 0;
        string? missing = Named(options.QuestionColumn) && question < 0 ? options.QuestionColumn
            : Named(options.AnswerColumn) && answer < 0 ? options.AnswerColumn : null;
        if (missing is not null)
            throw new UserInputException($"{sourceName}:1: no column named '{missing}' in the first row ({string.Join(", ", fields.Take(12))})");
        question = question >= 0 ? question : IsIndex(options.QuestionColumn) ?? FirstOther(answer, fields.Count, 0);
        answer = answer >= 0 ? answer : IsIndex(options.AnswerColumn) ?? FirstOther(question, fields.Count, 1);
        return new DelimitedLayout(delimiter, question, answer);
    }

    char SniffDelimiter(string firstRecord)
    {
        int commas = firstRecord.Count(c => c == ','), tabs = firstRecord.Count(c => c == '\t'), semicolons = firstRecord.Count(c => c == ';');
        if (tabs > commas && tabs >= semicolons) return '\t';
        if (semicolons > commas && semicolons > tabs) return ';';
        if (commas > 0) return ',';
        return defaultDelimiter;
    }

    static int FindByName(List<string> names, string? configured, string[] known)
    {
        if (IsIndex(configured) is not null) return -1;
        if (configured is not null) return names.IndexOf(Simplify(configured));
        for (int i = 0; i < names.Count; i++)
            if (Array.IndexOf(known, names[i]) >= 0) return i;
        return -1;
    }

    /// <summary>With one column found by name, the other is the first remaining column (or the conventional position).</summary>
    static int FirstOther(int taken, int count, int fallback)
    {
        if (taken < 0) return fallback;
        for (int i = 0; i < count; i++) if (i != taken) return i;
        return taken + 1;
    }

    static int? IsIndex(string? column) => int.TryParse(column, out int index) && index >= 1 ? index - 1 : null;
    static bool Named(string? column) => column is not null && IsIndex(column) is null;
    static string Simplify(string name) => new(name.Where(char.IsLetterOrDigit).Select(char.ToLowerInvariant).ToArray());
}

/// <summary>One table row; decoded and split on a worker.</summary>
public sealed class DelimitedRow(long line, byte[] utf8, DelimitedLayout layout) : RawRecord(line)
{
    public override ParseOutcome Parse()
    {
        if (!Utf8.IsValid(utf8))
            return new Rejection(RejectReason.InvalidUtf8, $"invalid UTF-8 at byte {JsonRecord.FirstInvalidByte(utf8)}");
        var fields = SplitFields(Encoding.UTF8.GetString(utf8), layout.Delimiter);
        int needed = Math.Max(layout.QuestionIndex, layout.AnswerIndex) + 1;
        if (fields.Count < needed)
            return new Rejection(RejectReason.MissingColumn, $"row has {fields.Count} column(s), the answer/question needs {needed}");
        return new Conversation([
            new ChatMessage(ChatMessage.User, fields[layout.QuestionIndex]),
            new ChatMessage(ChatMessage.Assistant, fields[layout.AnswerIndex]),
        ]);
    }

    /// <summary>RFC 4180 fields; text after a closing quote is kept rather than failing the row.</summary>
    public static List<string> SplitFields(string record, char delimiter)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        int i = 0;
        while (true)
        {
            field.Clear();
            if (i < record.Length && record[i] == '"')
            {
                i++;
                while (i < record.Length)
                {
                    if (record[i] == '"')
                    {
                        if (i + 1 < record.Length && record[i + 1] == '"') { field.Append('"'); i += 2; continue; }
                        i++;
                        break;
                    }
                    field.Append(record[i++]);
                }
            }
            while (i < record.Length && record[i] != delimiter) field.Append(record[i++]);
            fields.Add(field.ToString());
            if (i >= record.Length) return fields;
            i++;
        }
    }
}
