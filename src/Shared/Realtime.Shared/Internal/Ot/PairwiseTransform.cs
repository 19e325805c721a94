namespace Realtime.Internal.Ot;

/// <summary>How a type whose operations are lists of independent components transforms one component by another and appends a
/// component to an operation (merging it with the last one where it can): what <see cref="PairwiseTransform"/> builds whole-operation
/// transforms from.</summary>
internal interface IComponentRules<T>
{
    /// <summary>Adds to <paramref name="destination"/> what <paramref name="component"/> becomes after <paramref name="other"/>.</summary>
    static abstract void TransformComponent(List<T> destination, T component, T other, OtSide side);

    static abstract void Append(List<T> destination, T component);
}

/// <summary>
/// Transforming lists of components by transforming every pair (json0 and text0 work this way): each component of the right operation
/// is carried through the left operation's components one by one, and when a component splits in two, the rest of the left
/// operation is transformed by both pieces. Same order and the same appends as ot-json0's bootstrap, so results match it exactly.
/// </summary>
internal static class PairwiseTransform
{
    public static List<T> Transform<T, TRules>(List<T> op, List<T> other, OtSide side)
        where TRules : IComponentRules<T>
    {
        if (op.Count == 1 && other.Count == 1)
        {
            var destination = new List<T>(1);
            TRules.TransformComponent(destination, op[0], other[0], side);
            return destination;
        }

        return side == OtSide.Left
            ? TransformX<T, TRules>(op, other).Left
            : TransformX<T, TRules>(other, op).Right;
    }

    public static (List<T> Left, List<T> Right) TransformX<T, TRules>(List<T> left, List<T> right)
        where TRules : IComponentRules<T>
    {
        var newRight = new List<T>(right.Count);
        var pieces = new List<T>(2);
        foreach (T rightComponent in right)
        {
            var newLeft = new List<T>(left.Count);
            T current = rightComponent;
            bool carried = true;
            for (int k = 0; k < left.Count; k++)
            {
                pieces.Clear();
                TRules.TransformComponent(newLeft, left[k], current, OtSide.Left);
                TRules.TransformComponent(pieces, current, left[k], OtSide.Right);
                if (pieces.Count == 1)
                {
                    current = pieces[0];
                    continue;
                }

                carried = false;
                if (pieces.Count == 0)
                {
                    // The right component vanished: the rest of the left operation passes unchanged.
                    for (int j = k + 1; j < left.Count; j++)
                    {
                        TRules.Append(newLeft, left[j]);
                    }
                }
                else
                {
                    (List<T> restLeft, List<T> restRight) = TransformX<T, TRules>(left.GetRange(k + 1, left.Count - k - 1), [.. pieces]);
                    foreach (T c in restLeft)
                    {
                        TRules.Append(newLeft, c);
                    }

                    foreach (T c in restRight)
                    {
                        TRules.Append(newRight, c);
                    }
                }

                break;
            }

            if (carried)
            {
                TRules.Append(newRight, current);
            }

            left = newLeft;
        }

        return (left, newRight);
    }
}
