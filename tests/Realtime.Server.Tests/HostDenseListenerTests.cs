using System.Net;

namespace Realtime.Server.Tests;

/// <summary>The runnable host, as a child process, opens the dense listener from configuration and keeps its own URLs.</summary>
public class HostDenseListenerTests
{
    [Fact]
    public async Task With_Realtime_DenseListener_Port_set_the_host_serves_both_listeners_in_one_set_of_rooms()
    {
        int densePort = HostProcess.FreePort();
        await using HostProcess host = await HostProcess.StartAsync(new Dictionary<string, string> { ["Realtime__DenseListener__Port"] = densePort.ToString(System.Globalization.CultureInfo.InvariantCulture) });

        await using Connection dense = await new Client.Client($"ws://127.0.0.1:{densePort}/realtime").ConnectAsync("room1").DefaultTimeout();
        await using Connection endpoint = await new Client.Client(host.Url).ConnectAsync("room1").DefaultTimeout();
        var onEndpoint = new ConnectionRecorder(endpoint);
        var onDense = new ConnectionRecorder(dense);
        dense.Send("from the dense listener", "chat");
        await onEndpoint.WaitForEventAsync("message:chat");
        endpoint.Send("from the endpoint", "chat");
        await onDense.WaitForEventAsync("message:chat");
        Assert.Equal("from the dense listener", onEndpoint.Messages.Single().Data.GetString());
        Assert.Equal("from the endpoint", onDense.Messages.Single().Data.GetString());

        // The URLs given with --urls are still bound, pipeline and all.
        using var http = new HttpClient();
        HttpResponseMessage health = await http.GetAsync(new Uri($"http://127.0.0.1:{host.Port}/healthz")).DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Contains($"Now listening on: http://[::]:{densePort}", host.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_it_there_is_no_dense_listener()
    {
        await using HostProcess host = await HostProcess.StartAsync(new Dictionary<string, string>());
        await using Connection endpoint = await new Client.Client(host.Url).ConnectAsync("room1").DefaultTimeout();
        Assert.True(endpoint.Connected);
        string listening = Assert.Single(host.Output.Split('\n'), line => line.Contains("Now listening on", StringComparison.Ordinal));
        Assert.Contains($"http://127.0.0.1:{host.Port}", listening, StringComparison.Ordinal);
    }
}
