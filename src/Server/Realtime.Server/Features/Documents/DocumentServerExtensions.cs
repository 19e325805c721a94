using Realtime.Server.Internal.Documents;

namespace Realtime.Server;

/// <summary>Registers shared documents on a <see cref="RealtimeServer"/>, and reaches them from the server's side.</summary>
public static class DocumentServerExtensions
{
    /// <summary>
    /// Adds shared documents: one document per room, edited together through operational transformation, as the original framework's
    /// document feature does it on the wire (message type <c>ot-doc</c>), on every endpoint and protocol. json0 is registered. See
    /// docs/documents.md.
    /// </summary>
    /// <param name="server">The server.</param>
    /// <param name="configure">Registers types and middleware, sets the store and the limits; called on every call, so a second call
    /// (another endpoint's configure) adds to the same options.</param>
    /// <returns>The server.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A limit is out of range: not positive, or <see cref="DocumentOptions.MaxSnapshotBytes"/> above
    /// <see cref="RealtimeOptions.MaxMessageSize"/>.</exception>
    /// <example><code>
    /// app.MapRealtime("/realtime", server => server.UseDocuments(o => o.AddType(OtTypes.TextUnicode)));
    /// app.MapJsCollaboration("/collaboration/");
    /// </code></example>
    public static RealtimeServer UseDocuments(this RealtimeServer server, Action<DocumentOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        DocumentFeature? feature = server.FindFeature<DocumentFeature>();
        if (feature is null)
        {
            feature = new DocumentFeature(new DocumentOptions());
            server.UseFeature(feature);
        }

        configure?.Invoke(feature.Options);
        feature.Options.Validate(server.Options.MaxMessageSize);
        return server;
    }

    /// <summary>The server-side API of the documents (<see cref="UseDocuments"/>): fetch, ops, history, and changes sent to subscribers.</summary>
    /// <param name="server">The server.</param>
    /// <returns>The service (one per server).</returns>
    /// <exception cref="InvalidOperationException"><see cref="UseDocuments"/> was not called on this server.</exception>
    /// <example><code>
    /// DocumentSnapshot doc = await app.Services.GetRequiredService&lt;RealtimeServer&gt;().GetDocumentService().FetchAsync("room1");
    /// </code></example>
    public static DocumentService GetDocumentService(this RealtimeServer server)
    {
        ArgumentNullException.ThrowIfNull(server);
        return (server.FindFeature<DocumentFeature>() ?? throw new InvalidOperationException(
            "Documents are not enabled on this server: call server.UseDocuments() in MapRealtime's or MapJsCollaboration's configure.")).Service;
    }
}
