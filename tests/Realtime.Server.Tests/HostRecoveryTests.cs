using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Options;

namespace Realtime.Server.Tests;

/// <summary>The runnable host keeps a history in every room (appsettings.json, docs/recovery.md): its clients recover after a drop.</summary>
public class HostRecoveryTests
{
    [Fact]
    public async Task The_host_as_shipped_keeps_histories_and_a_client_that_asks_gets_a_resume_token_and_the_room_s_position()
    {
        await using var app = new RealtimeAppFactory();
        RecoveryOptions recovery = app.Services.GetRequiredService<IOptions<RealtimeOptions>>().Value.Recovery;
        Assert.True(recovery.Enabled);
        Assert.Equal(1000, recovery.MaxMessages);
        Assert.Equal(TimeSpan.FromMinutes(2), recovery.MaxAge);

        WebSocketClient sockets = app.Server.CreateWebSocketClient();
        sockets.SubProtocols.Add("realtime.v1");
        using WebSocket socket = await sockets.ConnectAsync(new Uri("ws://localhost/realtime?roomId=room1"), CancellationToken.None).DefaultTimeout();
        await socket.SendAsync("{\"t\":\"hello\",\"recover\":true}"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None).DefaultTimeout();

        byte[] buffer = new byte[4096];
        WebSocketReceiveResult result = await socket.ReceiveAsync(buffer, CancellationToken.None).DefaultTimeout();
        using JsonDocument welcome = JsonDocument.Parse(Encoding.UTF8.GetString(buffer, 0, result.Count));
        Assert.Equal("welcome", welcome.RootElement.GetProperty("t").GetString());
        Assert.False(string.IsNullOrEmpty(welcome.RootElement.GetProperty("resume").GetString()));
        Assert.True(RoomPosition.TryParse(welcome.RootElement.GetProperty("pos").GetString(), out RoomPosition position));
        Assert.Equal(0, position.Sequence);
        Assert.False(welcome.RootElement.TryGetProperty("recovered", out _)); // it offered no token
    }
}
