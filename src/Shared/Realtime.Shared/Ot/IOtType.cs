using System.Text.Json.Nodes;

namespace Realtime;

/// <summary>
/// An operational transformation (OT) type: what a shared document's content is, and how its operations are applied, transformed
/// against each other, composed and inverted. The server and every client of a document use the same type, found by its
/// <see cref="Name"/> or its <see cref="Uri"/> (docs/documents.md). Snapshots and operations are JSON, as on the wire.
/// </summary>
/// <remarks>
/// <para>
/// The server calls only <see cref="Create"/>, <see cref="Apply"/> and <see cref="Transform"/> with <see cref="OtSide.Left"/>; a client
/// also calls <see cref="TransformX"/>, <see cref="Compose"/>, <see cref="Invert"/> and <see cref="Normalize"/>.
/// </para>
/// <para>
/// A method never changes the operations it is given, nor keeps them: what it returns is new (or a node the caller owns).
/// <see cref="Apply"/> is the one exception: it may change the snapshot it is given and return it, so a caller passes a snapshot it owns
/// and, when <see cref="Apply"/> throws, no longer uses that snapshot (it may be half changed).
/// </para>
/// <para>An invalid operation or snapshot is an <see cref="OtException"/>; the server answers it with the protocol's codes (9 apply
/// failed, 10 transform failed).</para>
/// </remarks>
public interface IOtType
{
    /// <summary>The type's short name (for example <c>json0</c>), as clients name it in a create.</summary>
    string Name { get; }

    /// <summary>The type's URI (for example <c>http://sharejs.org/types/JSONv0</c>): how snapshots and stored creates name it.</summary>
    string Uri { get; }

    /// <summary>Whether <see cref="Invert"/> works for this type's operations.</summary>
    bool CanInvert { get; }

    /// <summary>The initial snapshot of a document created with <paramref name="data"/> (the create's <c>data</c>; <see langword="null"/> when
    /// it has none).</summary>
    /// <param name="data">The initial data; not kept (the result is a new node).</param>
    /// <returns>The snapshot.</returns>
    /// <exception cref="OtException">The data is not a valid initial value for this type.</exception>
    JsonNode? Create(JsonNode? data);

    /// <summary>Applies <paramref name="op"/> to <paramref name="snapshot"/>.</summary>
    /// <param name="snapshot">The snapshot; the caller owns it, and it may be changed in place.</param>
    /// <param name="op">The operation; not changed.</param>
    /// <returns>The new snapshot (often <paramref name="snapshot"/> itself).</returns>
    /// <exception cref="OtException">The operation is invalid or does not fit the snapshot.</exception>
    JsonNode? Apply(JsonNode? snapshot, JsonNode op);

    /// <summary>Transforms <paramref name="op"/> so that it applies after <paramref name="other"/>, both written against one version.</summary>
    /// <param name="op">The operation to transform.</param>
    /// <param name="other">The concurrent operation, already applied.</param>
    /// <param name="side">Which of the two goes first when they tie (both insert at one place): <see cref="OtSide.Left"/> puts
    /// <paramref name="op"/> first.</param>
    /// <returns>The transformed operation (new).</returns>
    /// <exception cref="OtException">An operation is invalid.</exception>
    JsonNode Transform(JsonNode op, JsonNode other, OtSide side);

    /// <summary>Both sides of a transform at once: <c>(Transform(left, right, Left), Transform(right, left, Right))</c>.</summary>
    /// <param name="left">The operation that goes first on a tie.</param>
    /// <param name="right">The other operation.</param>
    /// <returns>Each transformed against the other.</returns>
    /// <exception cref="OtException">An operation is invalid.</exception>
    (JsonNode Left, JsonNode Right) TransformX(JsonNode left, JsonNode right) => (Transform(left, right, OtSide.Left), Transform(right, left, OtSide.Right));

    /// <summary>One operation with the effect of <paramref name="first"/> then <paramref name="second"/>.</summary>
    /// <param name="first">The earlier operation.</param>
    /// <param name="second">The later operation.</param>
    /// <returns>The composition (new).</returns>
    /// <exception cref="OtException">An operation is invalid.</exception>
    JsonNode Compose(JsonNode first, JsonNode second);

    /// <summary>The operation that undoes <paramref name="op"/> (applied right after it).</summary>
    /// <param name="op">The operation.</param>
    /// <returns>The inverse (new).</returns>
    /// <exception cref="NotSupportedException">The type cannot invert (<see cref="CanInvert"/> is <see langword="false"/>), or this operation
    /// does not carry what its inverse needs.</exception>
    JsonNode Invert(JsonNode op);

    /// <summary>The canonical form of an operation a client is about to send (for example a lone component wrapped in a list).</summary>
    /// <param name="op">The operation.</param>
    /// <returns>The normalized operation (new).</returns>
    /// <exception cref="OtException">The operation is invalid.</exception>
    JsonNode Normalize(JsonNode op) => op.DeepClone();
}
