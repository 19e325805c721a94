namespace Realtime.Server;

/// <summary>A document's record in a <see cref="DocumentStore"/>: there is one while the document exists.</summary>
/// <param name="Version">The document's version: the number of operations committed (a create counts).</param>
/// <param name="Type">The URI of the document's OT type.</param>
public sealed record DocumentRecord(long Version, string Type)
{
    /// <summary>Which life of the document this is: given by the create that made the record (<see cref="DocumentCommit.Incarnation"/>) and
    /// kept until the document is deleted, so that a document deleted and created again is told apart from the one before even at the same
    /// version (a node's cached copy of the old one is then not used). <see langword="null"/> when its create gave none.</summary>
    public string? Incarnation { get; init; }
}
