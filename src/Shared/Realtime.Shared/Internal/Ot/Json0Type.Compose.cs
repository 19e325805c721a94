namespace Realtime.Internal.Ot;

internal sealed partial class Json0Type
{
    /// <summary>
    /// Appends a copy of <paramref name="component"/> to <paramref name="destination"/>, merging it into the last component when both
    /// act on one path: string edits compose as text0, number adds add, an insert followed by its own delete cancels, an object
    /// delete followed by an insert becomes a replace. Compose, normalize and transform all build operations through this.
    /// </summary>
    public static void Append(List<Json0Component> destination, Json0Component component)
    {
        Json0Component c = component.Copy();
        if (destination.Count == 0)
        {
            destination.Add(c);
            return;
        }

        Json0Component last = destination[^1];
        bool bothText = c.IsStringOp && last.IsStringOp;
        if (!SamePath(c.Path, last.Path, ignoreLast: bothText))
        {
            destination.Add(c);
            return;
        }

        if (bothText)
        {
            // Two edits of one string: compose them as text0; the result is one merged edit, or both as they were.
            List<Text0Component> composed = Text0.Compose([last.ToText0()], [c.ToText0()]);
            List<PathKey> stringPath = last.Path.GetRange(0, last.Path.Count - 1);
            last.SetFromText0(composed[0], stringPath);
            if (composed.Count > 1)
            {
                c.SetFromText0(composed[^1], stringPath);
                destination.Add(c);
            }

            return;
        }

        if (c.IsText0Subtype && last.IsText0Subtype)
        {
            last.O = Text0Component.ToJson(Text0.Compose(Text0Component.ParseOp(last.O), Text0Component.ParseOp(c.O)));
            return;
        }

        if (last.Na is double before && c.Na is double added)
        {
            destination[^1] = new Json0Component { Path = last.Path, Na = before + added };
        }
        else if (last.HasLi && !c.HasLi && c.HasLd && JsValues.StrictEquals(c.Ld, last.Li))
        {
            // An insert then the delete of that element: nothing happened (a replace keeps its delete).
            if (last.HasLd)
            {
                last.HasLi = false;
                last.Li = null;
            }
            else
            {
                destination.RemoveAt(destination.Count - 1);
            }
        }
        else if (last.HasOd && !last.HasOi && c.HasOi && !c.HasOd)
        {
            last.HasOi = true;
            last.Oi = c.Oi;
        }
        else if (last.HasOi && c.HasOd)
        {
            // What the last component inserted is deleted or replaced.
            if (c.HasOi)
            {
                last.Oi = c.Oi;
            }
            else if (last.HasOd)
            {
                last.HasOi = false;
                last.Oi = null;
            }
            else
            {
                destination.RemoveAt(destination.Count - 1);
            }
        }
        else if (!(c.Lm is PathKey to && c.PathAt(c.Path.Count - 1).StrictEquals(to)))
        {
            destination.Add(c);
        }
    }

    private static bool SamePath(List<PathKey> a, List<PathKey> b, bool ignoreLast)
    {
        if (a.Count != b.Count)
        {
            return false;
        }

        for (int i = 0; i < a.Count; i++)
        {
            if (!a[i].StrictEquals(b[i]) && !(ignoreLast && i == a.Count - 1))
            {
                return false;
            }
        }

        return true;
    }
}
