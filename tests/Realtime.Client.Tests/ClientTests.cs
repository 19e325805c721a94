namespace Realtime.Client.Tests;

public class ClientTests
{
    [Theory]
    [InlineData("http://localhost:5000/realtime", "ws://localhost:5000/realtime")]
    [InlineData("https://example.test/realtime", "wss://example.test/realtime")]
    [InlineData("ws://127.0.0.1:8080/rt", "ws://127.0.0.1:8080/rt")]
    [InlineData("wss://example.test:443/rt", "wss://example.test/rt")]
    public void Url_normalizes_http_to_ws_and_https_to_wss(string url, string expected)
        => Assert.Equal(new Uri(expected), new Client(url).Url);

    [Theory]
    [InlineData("ftp://example.test/realtime")]
    [InlineData("/relative")]
    public void Other_urls_are_refused(string url) => Assert.Throws<ArgumentException>(() => new Client(url));

    [Theory]
    [InlineData("")]
    [InlineData("bad\nroom")]
    public void Invalid_room_ids_are_refused_before_connecting(string roomId)
        => Assert.Throws<ArgumentException>(() => new Client("ws://127.0.0.1:1/realtime").Connect(roomId));

    [Fact]
    public async Task Send_takes_the_empty_type_on_text_and_refuses_what_protocol_v1_cannot_carry()
    {
        // Nothing listens on port 1: the connection keeps trying, and sends are buffered (encoded now, sent later).
        await using Connection connection = new Client("ws://127.0.0.1:1/realtime").Connect("room1");
        connection.Send(1, "");
        connection.Send(new byte[] { 1 }, "b");
        await connection.SendAsync(2, "");

        // A binary frame has no room for "" (typeLength 0 is no type), and a type is at most 255 bytes of UTF-8.
        Assert.Throws<ArgumentException>(() => connection.Send(new byte[] { 1 }, ""));
        Assert.Throws<ArgumentException>(() => connection.Send(new ReadOnlyMemory<byte>([1]), ""));
        await Assert.ThrowsAsync<ArgumentException>(() => connection.SendAsync(new byte[] { 1 }, ""));
        Assert.Throws<ArgumentException>(() => connection.Send(1, new string('x', 256)));
        Assert.Throws<ArgumentException>(() => connection.Send(new Message(new string('x', 256), new byte[] { 1 })));
    }

    [Fact]
    public void Options_have_the_documented_defaults()
    {
        var options = new ClientOptions();
        Assert.True(options.Reconnection);
        Assert.Equal(int.MaxValue, options.ReconnectionAttempts);
        Assert.Equal(TimeSpan.FromSeconds(1), options.ReconnectionDelay);
        Assert.Equal(TimeSpan.FromSeconds(5), options.ReconnectionDelayMax);
        Assert.Equal(0.5, options.RandomizationFactor);
        Assert.Equal(TimeSpan.FromSeconds(20), options.Timeout);
        Assert.Equal(1000, options.MaxBufferedMessages);
    }
}
