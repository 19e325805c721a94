using System.Text;

namespace Realtime.Internal.Ot;

/// <summary>
/// text0, the string type json0 embeds (its <c>si</c>/<c>sd</c> components and <c>t: "text0"</c> subtype components), as ot-json0
/// 1.1.0 ships it: components insert or delete at a UTF-16 offset, each after the previous one.
/// </summary>
internal sealed class Text0 : IComponentRules<Text0Component>
{
    public static string Apply(string snapshot, List<Text0Component> op)
    {
        foreach (Text0Component c in op)
        {
            int at = Math.Min(c.P, snapshot.Length);
            if (c.I is not null)
            {
                snapshot = snapshot.Insert(at, c.I);
            }
            else
            {
                int end = (int)Math.Min((long)c.P + c.D!.Length, snapshot.Length);
                if (end - at != c.D.Length || !snapshot.AsSpan(at, end - at).SequenceEqual(c.D))
                {
                    throw new OtException("text0: the deleted text does not match the document.");
                }

                snapshot = snapshot.Remove(at, end - at);
            }
        }

        return snapshot;
    }

    public static List<Text0Component> Compose(List<Text0Component> first, List<Text0Component> second)
    {
        var result = new List<Text0Component>(first.Count + second.Count);
        result.AddRange(first);
        foreach (Text0Component c in second)
        {
            Append(result, c);
        }

        return result;
    }

    public static List<Text0Component> Transform(List<Text0Component> op, List<Text0Component> other, OtSide side)
        => other.Count == 0 ? op : PairwiseTransform.Transform<Text0Component, Text0>(op, other, side);

    public static List<Text0Component> Invert(List<Text0Component> op)
    {
        var inverse = new List<Text0Component>(op.Count);
        for (int i = op.Count - 1; i >= 0; i--)
        {
            Text0Component c = op[i];
            inverse.Add(c.I is not null ? Text0Component.Delete(c.P, c.I) : Text0Component.Insert(c.P, c.D!));
        }

        return inverse;
    }

    /// <summary>Appends <paramref name="c"/>, merging an insert into an insert it touches and a delete with a delete it touches;
    /// empty components vanish.</summary>
    public static void Append(List<Text0Component> destination, Text0Component c)
    {
        if (c.Length == 0)
        {
            return;
        }

        if (destination.Count > 0)
        {
            Text0Component last = destination[^1];
            if (last.I is not null && c.I is not null && last.P <= c.P && c.P <= last.P + last.I.Length)
            {
                destination[^1] = Text0Component.Insert(last.P, last.I.Insert(c.P - last.P, c.I));
                return;
            }

            if (last.D is not null && c.D is not null && c.P <= last.P && last.P <= c.P + c.D.Length)
            {
                destination[^1] = Text0Component.Delete(c.P, c.D.Insert(last.P - c.P, last.D));
                return;
            }
        }

        destination.Add(c);
    }

    public static void TransformComponent(List<Text0Component> destination, Text0Component c, Text0Component other, OtSide side)
    {
        if (c.I is not null)
        {
            Append(destination, Text0Component.Insert(TransformPosition(c.P, other, insertAfter: side == OtSide.Right), c.I));
            return;
        }

        string deleted = c.D!;
        if (other.I is not null)
        {
            // A delete around an insert splits in two: the part before it, and the part after (shifted past the insert).
            if (c.P < other.P)
            {
                Append(destination, Text0Component.Delete(c.P, JsValues.Slice(deleted, 0, other.P - c.P)));
                deleted = JsValues.Slice(deleted, other.P - c.P);
            }

            if (deleted.Length > 0)
            {
                Append(destination, Text0Component.Delete(c.P + other.I.Length, deleted));
            }

            return;
        }

        string otherDeleted = other.D!;
        if (c.P >= other.P + otherDeleted.Length)
        {
            Append(destination, Text0Component.Delete(c.P - otherDeleted.Length, deleted));
        }
        else if (c.P + deleted.Length <= other.P)
        {
            Append(destination, c);
        }
        else
        {
            // Overlapping deletes: keep what only this one deletes, and insist both saw the same text where they overlap.
            var rest = new StringBuilder();
            if (c.P < other.P)
            {
                rest.Append(JsValues.Slice(deleted, 0, other.P - c.P));
            }

            if (c.P + deleted.Length > other.P + otherDeleted.Length)
            {
                rest.Append(JsValues.Slice(deleted, other.P + otherDeleted.Length - c.P));
            }

            int overlapStart = Math.Max(c.P, other.P);
            int overlapEnd = Math.Min(c.P + deleted.Length, other.P + otherDeleted.Length);
            if (JsValues.Slice(deleted, overlapStart - c.P, overlapEnd - c.P) != JsValues.Slice(otherDeleted, overlapStart - other.P, overlapEnd - other.P))
            {
                throw new OtException("text0: two deletes delete different text in the same region of the document.");
            }

            if (rest.Length > 0)
            {
                Append(destination, Text0Component.Delete(TransformPosition(c.P, other, insertAfter: false), rest.ToString()));
            }
        }
    }

    private static int TransformPosition(int position, Text0Component c, bool insertAfter)
    {
        if (c.I is not null)
        {
            return c.P < position || (c.P == position && insertAfter) ? position + c.I.Length : position;
        }

        if (position <= c.P)
        {
            return position;
        }

        return position <= c.P + c.D!.Length ? c.P : position - c.D.Length;
    }
}
