namespace Realtime.Internal.Ot;

internal sealed partial class Json0Type
{
    /// <summary>
    /// How far two components' paths agree, as ot-json0 measures it: the index in <paramref name="b"/>'s path of the element of the
    /// container <paramref name="a"/> changes, when <paramref name="a"/>'s container is on <paramref name="b"/>'s path; -1 when
    /// <paramref name="a"/> changes the whole document; <see langword="null"/> when <paramref name="a"/> cannot affect <paramref name="b"/>.
    /// </summary>
    private static int? CommonLength(Json0Component a, Json0Component b)
    {
        int aLength = a.OperandLength;
        int bLength = b.OperandLength;
        if (aLength == 0)
        {
            return -1;
        }

        if (bLength == 0)
        {
            return null;
        }

        aLength--;
        bLength--;
        for (int i = 0; i < aLength; i++)
        {
            if (i >= bLength || !a.PathAt(i).StrictEquals(b.PathAt(i)))
            {
                return null;
            }
        }

        return aLength;
    }

    /// <summary>Adds to <paramref name="destination"/> what <paramref name="component"/> becomes once <paramref name="other"/> has been
    /// applied: moved by other's list inserts, deletes and moves, dropped when what it changes is gone, and, on a tie, first or last
    /// by <paramref name="side"/>.</summary>
    public static void TransformComponent(List<Json0Component> destination, Json0Component component, Json0Component other, OtSide side)
    {
        Json0Component c = component.Copy();
        int? common = CommonLength(other, c);
        int? common2 = CommonLength(c, other);
        int cLength = c.OperandLength;
        int otherLength = other.OperandLength;

        // A delete of something the other component changes carries the changed value, so the delete stays invertible.
        if (common2 is int k2 && otherLength > cLength && c.PathAt(k2).LooseEquals(other.PathAt(k2)) && (c.HasLd || c.HasOd))
        {
            Json0Component inner = other.Copy();
            inner.Path = other.Path.GetRange(cLength, other.Path.Count - cLength);
            if (c.HasLd)
            {
                c.Ld = ApplyComponent(c.Ld?.DeepClone(), inner);
            }
            else
            {
                c.Od = ApplyComponent(c.Od?.DeepClone(), inner);
            }
        }

        if (common is int k && !TransformAgainst(destination, c, other, k, cLength == otherLength, side))
        {
            return;
        }

        Append(destination, c);
    }

    /// <summary>Changes <paramref name="c"/> for <paramref name="other"/>, whose container is on c's path at <paramref name="k"/>.
    /// Returns <see langword="false"/> when c is done with (dropped, or already appended).</summary>
    private static bool TransformAgainst(List<Json0Component> destination, Json0Component c, Json0Component other, int k, bool sameOperand, OtSide side)
    {
        if (c.IsStringOp && other.IsStringOp)
        {
            // Two string edits on the same string: text0 transforms them, and each resulting piece becomes a string component again.
            List<Text0Component> pieces = Text0.Transform([c.ToText0()], [other.ToText0()], side);
            List<PathKey> stringPath = c.Path.GetRange(0, c.Path.Count - 1);
            foreach (Text0Component piece in pieces)
            {
                c.SetFromText0(piece, stringPath);
                Append(destination, c);
            }

            return false;
        }

        if (other.IsText0Subtype)
        {
            if (c.IsText0Subtype)
            {
                List<Text0Component> result = Text0.Transform(Text0Component.ParseOp(c.O), Text0Component.ParseOp(other.O), side);
                if (result.Count > 0)
                {
                    c.O = Text0Component.ToJson(result);
                    Append(destination, c);
                }

                return false;
            }

            return true;
        }

        PathKey mine = c.PathAt(k);
        PathKey theirs = other.PathAt(k);
        if (other.Na is not null)
        {
            return true;
        }

        if (other.HasLi && other.HasLd)
        {
            if (mine.StrictEquals(theirs))
            {
                if (!sameOperand)
                {
                    return false; // they replaced an element we change inside
                }

                if (c.HasLd)
                {
                    if (!c.HasLi || side == OtSide.Right)
                    {
                        return false; // we delete what they replaced, or both replace and theirs wins
                    }

                    c.Ld = other.Li;
                }
            }

            return true;
        }

        if (other.HasLi)
        {
            if (c.HasLi && !c.HasLd && sameOperand && mine.StrictEquals(theirs))
            {
                // Both insert at one index: the left one goes first.
                if (side == OtSide.Right)
                {
                    c.SetPathAt(k, mine.Plus(1));
                }
            }
            else if (theirs.LessOrEqual(mine))
            {
                c.SetPathAt(k, mine.Plus(1));
            }

            if (c.Lm is PathKey to && sameOperand && theirs.LessOrEqual(to))
            {
                c.Lm = to.Plus(1);
            }

            return true;
        }

        if (other.HasLd)
        {
            return TransformAgainstListDelete(c, k, theirs, sameOperand, other.OperandLength < c.OperandLength);
        }

        if (other.Lm is PathKey otherTo)
        {
            return TransformAgainstListMove(c, k, theirs, otherTo, sameOperand, side);
        }

        if (other.HasOi && other.HasOd)
        {
            if (mine.StrictEquals(theirs))
            {
                if (!(c.HasOi && sameOperand) || side == OtSide.Right)
                {
                    return false; // they replaced what we change (or, on a tie, their replace wins)
                }

                c.HasOd = true;
                c.Od = other.Oi;
            }

            return true;
        }

        if (other.HasOi)
        {
            if (c.HasOi && mine.StrictEquals(theirs))
            {
                if (side == OtSide.Right)
                {
                    return false;
                }

                // Both insert one key: the left one wins, deleting what the other inserted.
                Append(destination, new Json0Component { Path = c.Path, HasOd = true, Od = other.Oi });
            }

            return true;
        }

        if (other.HasOd && mine.LooseEquals(theirs))
        {
            if (!sameOperand || !c.HasOi)
            {
                return false;
            }

            c.HasOd = false;
            c.Od = null;
        }

        return true;
    }

    private static bool TransformAgainstListDelete(Json0Component c, int k, PathKey theirs, bool sameOperand, bool inside)
    {
        PathKey mine = c.PathAt(k);
        if (c.Lm is PathKey to && sameOperand)
        {
            if (theirs.StrictEquals(mine))
            {
                return false; // they deleted what we move
            }

            if (theirs.LessThan(to) || (theirs.StrictEquals(to) && mine.LessThan(to)))
            {
                c.Lm = to.Plus(-1);
            }
        }

        if (theirs.LessThan(mine))
        {
            c.SetPathAt(k, mine.Plus(-1));
        }
        else if (theirs.StrictEquals(mine))
        {
            if (inside)
            {
                return false; // we change something inside the deleted element
            }

            if (c.HasLd)
            {
                if (!c.HasLi)
                {
                    return false; // both delete it: once is enough
                }

                // We replace what they deleted: we insert instead.
                c.HasLd = false;
                c.Ld = null;
            }
        }

        return true;
    }

    private static bool TransformAgainstListMove(Json0Component c, int k, PathKey otherFrom, PathKey otherTo, bool sameOperand, OtSide side)
    {
        PathKey from = c.PathAt(k);
        if (c.Lm is PathKey to && sameOperand)
        {
            if (otherFrom.StrictEquals(otherTo))
            {
                return true;
            }

            if (from.StrictEquals(otherFrom))
            {
                // Both move one element: the left move wins, from where the other put it.
                if (side == OtSide.Right)
                {
                    return false;
                }

                c.SetPathAt(k, otherTo);
                if (from.StrictEquals(to))
                {
                    c.Lm = otherTo;
                }

                return true;
            }

            // Where our element is now.
            if (from.GreaterThan(otherFrom))
            {
                c.SetPathAt(k, c.PathAt(k).Plus(-1));
            }

            if (from.GreaterThan(otherTo))
            {
                c.SetPathAt(k, c.PathAt(k).Plus(1));
            }
            else if (from.StrictEquals(otherTo) && otherFrom.GreaterThan(otherTo))
            {
                c.SetPathAt(k, c.PathAt(k).Plus(1));
                if (from.StrictEquals(to))
                {
                    c.Lm = c.Lm!.Value.Plus(1);
                }
            }

            // Where it goes.
            if (to.GreaterThan(otherFrom) || (to.StrictEquals(otherFrom) && to.GreaterThan(from)))
            {
                c.Lm = c.Lm!.Value.Plus(-1);
            }

            if (to.GreaterThan(otherTo))
            {
                c.Lm = c.Lm!.Value.Plus(1);
            }
            else if (to.StrictEquals(otherTo))
            {
                bool sameDirection = (otherTo.GreaterThan(otherFrom) && to.GreaterThan(from)) || (otherTo.LessThan(otherFrom) && to.LessThan(from));
                if (sameDirection)
                {
                    if (side == OtSide.Right)
                    {
                        c.Lm = c.Lm!.Value.Plus(1);
                    }
                }
                else if (to.GreaterThan(from))
                {
                    c.Lm = c.Lm!.Value.Plus(1);
                }
                else if (to.StrictEquals(otherFrom))
                {
                    c.Lm = c.Lm!.Value.Plus(-1);
                }
            }

            return true;
        }

        PathKey p = from;
        if (c.HasLi && !c.HasLd && sameOperand)
        {
            // An insert only shifts with the elements around it.
            if (p.GreaterThan(otherFrom))
            {
                c.SetPathAt(k, c.PathAt(k).Plus(-1));
            }

            if (p.GreaterThan(otherTo))
            {
                c.SetPathAt(k, c.PathAt(k).Plus(1));
            }

            return true;
        }

        // Everything else follows its element to where it was moved.
        if (p.StrictEquals(otherFrom))
        {
            c.SetPathAt(k, otherTo);
            return true;
        }

        if (p.GreaterThan(otherFrom))
        {
            c.SetPathAt(k, c.PathAt(k).Plus(-1));
        }

        if (p.GreaterThan(otherTo) || (p.StrictEquals(otherTo) && otherFrom.GreaterThan(otherTo)))
        {
            c.SetPathAt(k, c.PathAt(k).Plus(1));
        }

        return true;
    }
}
