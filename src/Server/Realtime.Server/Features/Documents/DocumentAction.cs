namespace Realtime.Server;

/// <summary>When a <see cref="DocumentMiddleware"/> runs (<see cref="DocumentOptions.Use"/>): the original's middleware actions, in .NET form.</summary>
public enum DocumentAction
{
    /// <summary>Every <c>ot-doc</c> message a connection sends, before anything else looks at it. A refusal is code 1000.</summary>
    Receive,

    /// <summary>Before a submitted operation enters the pipeline (once, not again on a retry). A refusal is code 1000.</summary>
    Submit,

    /// <summary>Before an operation is applied to the snapshot (after its transformation). A refusal is code 1000.</summary>
    Apply,

    /// <summary>Before the store writes an applied operation. A refusal is code 1000; nothing is written.</summary>
    Commit,

    /// <summary>After the operation was written and broadcast. A refusal only tells the submitter (code 1000): the operation stays committed.</summary>
    AfterWrite,

    /// <summary>Before a snapshot goes out (fetch, subscribe, history). A refusal is code 11 unless it names another.</summary>
    ReadSnapshots,

    /// <summary>Before operations read from the log go out to one client (ops since a version on fetch and subscribe, the operations a
    /// submit was transformed against); not for live broadcasts. A refusal is code 1000.</summary>
    ReadOp,

    /// <summary>Before a reply that is not an error goes out (fetch, subscribe, history, ack); <see cref="DocumentContext.Reply"/> may be
    /// changed. A refusal is code 1000.</summary>
    Reply,
}
