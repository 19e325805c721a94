namespace Realtime;

/// <summary>Which of two concurrent operations goes first when they tie in a transform (<see cref="IOtType.Transform"/>).</summary>
public enum OtSide
{
    /// <summary>The transformed operation goes first (the server transforms a late operation with this side).</summary>
    Left,

    /// <summary>The other operation goes first.</summary>
    Right,
}
