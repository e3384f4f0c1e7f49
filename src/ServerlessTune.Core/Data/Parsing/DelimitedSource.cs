using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Unicode;
using ServerlessTune.Core.Chat;
using ServerlessTune.Core.Data.Mapping;

namespace ServerlessTune.Core.Data.Parsing;

/// <summary>Where each side of a table row is: column indexes from the file's mapping, -1 where the mapping has none.</summary>
public sealed record DelimitedLayout(char Delimiter, int User, int Input, int Assistant, int System, int Text, string? Unmapped = null)
{
    public int Needed => Math.Max(Math.Max(User, Input), Math.Max(Math.Max(Assistant, System), Text)) + 1;

    public static DelimitedLayout From(char delimiter, RecordMapping mapping, IReadOnlyList<string> names)
    {
        int At(string? name) => name is null ? -1 : IndexOf(names, name);
        return new DelimitedLayout(delimiter, At(mapping.User), At(mapping.Input), At(mapping.Assistant), At(mapping.System), At(mapping.Text), mapping.Unmapped);
    }

    static int IndexOf(IReadOnlyList<string> names, string name)
    {
        for (int i = 0; i < names.Count; i++) if (names[i] == name) return i;
        return -1;
    }
}

/// <summary>
/// Tables in CSV or TSV per RFC 4180: quoted fields may hold delimiters, doubled quotes and line breaks, so a record
/// can span lines (its line number is where it starts). The first row is a header when it names a column the
/// <see cref="FieldMapper"/> knows (or one prepare.columns names); otherwise columns are positions and the row is
/// data. The first rows are held back until the mapping is decided from the header and from them.
/// </summary>
public sealed class DelimitedSource(string sourceName, char defaultDelimiter, PrepareOptions options, Action<RecordMapping> mapped) : IRecordSource
{
    public async IAsyncEnumerable<RawRecord> ReadAsync(Stream input, [EnumeratorCancellation] CancellationToken ct)
    {
        var reader = new LineReader(input, options.MaxRecordBytes);
        var record = new MemoryStream();
        long startLine = 0, length = 0;
        int quotes = 0;
        bool tooLarge = false;
        DelimitedLayout? layout = null;
        char delimiter = defaultDelimiter;
        bool positional = false;
        List<string>? names = null;
        var held = new List<RawRecord>();
        var heldRows = new List<(long Line, byte[] Bytes)>();
        long heldBytes = 0;
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
            if (tooLarge)
            {
                var rejected = JsonLinesSource.TooLarge(at, length, options.MaxRecordBytes);
                if (layout is null) held.Add(rejected);
                else yield return rejected;
                continue;
            }
            var bytes = record.ToArray();
            if (layout is not null)
            {
                yield return new DelimitedRow(at, bytes, layout);
                continue;
            }
            if (names is null)
            {
                string first = Encoding.UTF8.GetString(bytes);
                delimiter = SniffDelimiter(first);
                var fields = DelimitedRow.SplitFields(first, delimiter);
                if (IsHeader(fields)) { names = fields; continue; }
                // Without a header, columns are positions: as many as the row has, and at least the ones the mapping may read.
                int width = new[] { options.Columns.User, options.Columns.Input, options.Columns.Assistant, options.Columns.System }
                    .Select(c => int.TryParse(c, out int n) ? n : 0).Append(fields.Count).Append(2).Max();
                names = [.. Enumerable.Range(1, width).Select(i => $"column {i}")];
                positional = true;
            }
            held.Add(new DelimitedRow(at, bytes, Pending));
            heldRows.Add((at, bytes));
            heldBytes += bytes.Length;
            if (heldRows.Count < FieldSample.MaxRecords && heldBytes < FieldSample.MaxBytes) continue;
            layout = Decide(names, heldRows, delimiter, positional);
            foreach (var r in held) yield return r is DelimitedRow row ? row.WithLayout(layout) : r;
            held.Clear();
        }
        // A short file: decide from what there is (a header alone still names its columns).
        if (layout is null && names is not null) layout = Decide(names, heldRows, delimiter, positional);
        foreach (var r in held) yield return r is DelimitedRow row ? row.WithLayout(layout!) : r;
        if (startLine != 0)
            yield return new ReadyRecord(startLine, new Rejection(RejectReason.UnterminatedQuote, "a quoted field is not closed before the end of the file"));
    }

    static readonly DelimitedLayout Pending = new(',', -1, -1, -1, -1, -1);

    DelimitedLayout Decide(List<string> names, List<(long Line, byte[] Bytes)> rows, char delimiter, bool positional)
    {
        var sample = new FieldSample(names);
        foreach (var (_, bytes) in rows)
        {
            var fields = DelimitedRow.SplitFields(Encoding.UTF8.GetString(bytes), delimiter);
            sample.Add(names.Select((name, i) => (name, i < fields.Count ? fields[i] : null)));
        }
        var mapping = FieldMapper.Decide(positional ? sourceName : $"{sourceName}:1", sample, options, positional ? FieldLayout.Positional : FieldLayout.Header);
        mapped(mapping);
        return DelimitedLayout.From(delimiter, mapping, names);
    }

    /// <summary>A first row that names a known column, or a column prepare.columns asks for, is a header.</summary>
    bool IsHeader(List<string> fields)
    {
        var configured = new[] { options.Columns.User, options.Columns.Input, options.Columns.Assistant, options.Columns.System }
            .Where(c => c is not null && !int.TryParse(c, out _)).Select(c => FieldNames.Simplify(c!)).ToHashSet();
        return fields.Any(f => FieldNames.Classify(f) is not null || configured.Contains(FieldNames.Simplify(f)));
    }

    char SniffDelimiter(string firstRecord)
    {
        int commas = firstRecord.Count(c => c == ','), tabs = firstRecord.Count(c => c == '\t'), semicolons = firstRecord.Count(c => c == ';');
        if (tabs > commas && tabs >= semicolons) return '\t';
        if (semicolons > commas && semicolons > tabs) return ';';
        if (commas > 0) return ',';
        return defaultDelimiter;
    }
}

/// <summary>One table row; decoded and split on a worker.</summary>
public sealed class DelimitedRow(long line, byte[] utf8, DelimitedLayout layout) : RawRecord(line)
{
    /// <summary>The same row read with the file's decided layout (rows are held back until it is known).</summary>
    public DelimitedRow WithLayout(DelimitedLayout decided) => new(Line, utf8, decided);

    public override ParseOutcome Parse()
    {
        if (TextChecks.Reject(utf8) is { } rejection) return rejection;
        if (layout.Unmapped is { } unmapped) return new Rejection(RejectReason.MissingColumn, unmapped);
        var fields = SplitFields(Encoding.UTF8.GetString(utf8), layout.Delimiter);
        if (fields.Count < layout.Needed)
            return new Rejection(RejectReason.MissingColumn, $"row has {fields.Count} column(s), the mapping reads column {layout.Needed}");
        if (layout.Text >= 0)
            return new Conversation([new ChatMessage(ChatMessage.Assistant, fields[layout.Text])], RecordKind.Passage);
        var messages = new List<ChatMessage>(3);
        if (layout.System >= 0 && !string.IsNullOrWhiteSpace(fields[layout.System]))
            messages.Add(new ChatMessage(ChatMessage.System, fields[layout.System]));
        messages.Add(new ChatMessage(ChatMessage.User, WithInput(fields[layout.User], layout.Input >= 0 ? fields[layout.Input] : null)));
        messages.Add(new ChatMessage(ChatMessage.Assistant, fields[layout.Assistant]));
        return new Conversation(messages);
    }

    /// <summary>Alpaca's convention: a non-empty input follows the instruction after a blank line.</summary>
    public static string WithInput(string user, string? input) => string.IsNullOrWhiteSpace(input) ? user : $"{user}\n\n{input}";

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
