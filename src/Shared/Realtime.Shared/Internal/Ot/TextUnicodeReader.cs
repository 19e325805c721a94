namespace Realtime.Internal.Ot;

/// <summary>
/// Reads an operation's components in pieces of a requested length, for transform and compose (which walk two operations side by
/// side): an operation goes on with skips forever after its last component.
/// </summary>
internal struct TextUnicodeReader(List<TextUnicodeComponent> op)
{
    private int _index;

    // Into the current component: UTF-16 units for an insert, code points for a skip or a delete.
    private long _offset;

    public readonly TextUnicodeComponent? Peek() => _index < op.Count ? op[_index] : null;

    /// <summary>The rest of the current component, or <see langword="null"/> at the end.</summary>
    public TextUnicodeComponent? TakeAll()
    {
        if (_index == op.Count)
        {
            return null;
        }

        TextUnicodeComponent c = op[_index];
        long offset = _offset;
        _index++;
        _offset = 0;
        return c.Kind switch
        {
            TextUnicodeKind.Skip => TextUnicodeComponent.Skip(c.Count - offset),
            TextUnicodeKind.Insert => offset == 0 ? c : TextUnicodeComponent.Insert(c.Text![(int)offset..]),
            _ => c.SliceDelete(offset),
        };
    }

    /// <summary>At most <paramref name="length"/> code points of the current component. Transform takes inserts whole (they are
    /// not in the other operation's document), compose takes deletes whole (they are not in the second operation's document):
    /// <paramref name="composing"/> says which.</summary>
    public TextUnicodeComponent Take(long length, bool composing)
    {
        if (_index == op.Count)
        {
            return TextUnicodeComponent.Skip(length);
        }

        TextUnicodeComponent c = op[_index];
        switch (c.Kind)
        {
            case TextUnicodeKind.Skip:
                if (c.Count - _offset <= length)
                {
                    return TakeAll()!.Value;
                }

                _offset += length;
                return TextUnicodeComponent.Skip(length);

            case TextUnicodeKind.Insert:
                if (!composing)
                {
                    return TakeAll()!.Value;
                }

                ReadOnlySpan<char> rest = c.Text.AsSpan((int)_offset);
                if (CodePoints.Count(rest) <= length)
                {
                    return TakeAll()!.Value;
                }

                int end = (int)(_offset + CodePoints.Units(rest, length));
                TextUnicodeComponent piece = TextUnicodeComponent.Insert(c.Text![(int)_offset..end]);
                _offset = end;
                return piece;

            default:
                if (composing || c.Count - _offset <= length)
                {
                    return TakeAll()!.Value;
                }

                TextUnicodeComponent part = c.SliceDelete(_offset, _offset + length);
                _offset += length;
                return part;
        }
    }
}
