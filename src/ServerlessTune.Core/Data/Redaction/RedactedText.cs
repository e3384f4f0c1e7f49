using System.Text;

namespace ServerlessTune.Core.Data.Redaction;

/// <summary>
/// A text with some spans replaced by placeholders, in ascending order. Nothing is copied until the first
/// replacement: most texts have nothing to redact, and they come back as the same string.
/// </summary>
internal struct RedactedText(string text)
{
    StringBuilder? _copy;
    int _copied;

    public void Replace(int start, int length, string placeholder)
    {
        _copy ??= new StringBuilder(text.Length);
        _copy.Append(text, _copied, start - _copied).Append(placeholder);
        _copied = start + length;
    }

    public readonly string Result() => _copy is null ? text : _copy.Append(text, _copied, text.Length - _copied).ToString();
}
