namespace Realtime.Testing;

/// <summary>Which way a <see cref="FaultProxy"/> fault applies.</summary>
[Flags]
public enum FaultDirection
{
    /// <summary>Neither direction.</summary>
    None = 0,

    /// <summary>Bytes from the client to the server.</summary>
    ClientToServer = 1,

    /// <summary>Bytes from the server to the client.</summary>
    ServerToClient = 2,

    /// <summary>Both directions.</summary>
    Both = ClientToServer | ServerToClient,
}
