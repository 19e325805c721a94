using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Realtime.Server.Tests;

/// <summary>
/// The runnable host, as a child process, opens the dense listener from configuration, where the app's own URLs bind (or where
/// <c>Realtime:DenseListener:Address</c> says), and keeps its own URLs.
/// </summary>
public class HostDenseListenerTests
{
    [Fact]
    public async Task With_Realtime_DenseListener_Port_set_the_host_serves_both_listeners_in_one_set_of_rooms()
    {
        int densePort = HostProcess.FreePort();
        await using HostProcess host = await HostProcess.StartAsync(new Dictionary<string, string> { ["Realtime__DenseListener__Port"] = densePort.ToString(CultureInfo.InvariantCulture) });

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
        Assert.Contains($"Now listening on: http://127.0.0.1:{densePort}", host.Output, StringComparison.Ordinal); // where --urls binds
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

    [Fact]
    public async Task With_ASPNETCORE_URLS_on_127_0_0_1_the_dense_port_answers_there_and_not_on_another_address_of_this_machine()
    {
        IPAddress other = AnotherAddressOfThisMachine();
        await AssertTakesConnectionsAsync(other);
        int densePort = HostProcess.FreePort();
        await using HostProcess host = await HostProcess.StartAsync(
            new Dictionary<string, string> { ["Realtime__DenseListener__Port"] = densePort.ToString(CultureInfo.InvariantCulture) }, urlsInEnvironment: true);

        await using Connection dense = await new Client.Client($"ws://127.0.0.1:{densePort}/realtime").ConnectAsync("room1").DefaultTimeout();
        Assert.True(dense.Connected);
        Assert.False(await AcceptsAsync(other, host.Port), $"The app's own port answers on {other}: the host did not keep ASPNETCORE_URLS (http://127.0.0.1:{host.Port}).");
        Assert.False(await AcceptsAsync(other, densePort), $"The dense port answers on {other}, beyond the app's URL (http://127.0.0.1:{host.Port}). The host said:\n{host.Output}");
        Assert.Contains($"Now listening on: http://127.0.0.1:{densePort}", host.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Realtime_DenseListener_Address_binds_the_dense_port_there_instead_of_where_the_URLs_bind()
    {
        // Another loopback address than the URL's 127.0.0.1: the dense port answers there only, and nothing leaves this machine.
        IPAddress address = IPAddress.Parse("127.0.0.2");
        await AssertTakesConnectionsAsync(address);
        int densePort = HostProcess.FreePort();
        await using HostProcess host = await HostProcess.StartAsync(new Dictionary<string, string>
        {
            ["Realtime__DenseListener__Port"] = densePort.ToString(CultureInfo.InvariantCulture),
            ["Realtime__DenseListener__Address"] = "127.0.0.2",
        }, urlsInEnvironment: true);

        await using Connection dense = await new Client.Client($"ws://127.0.0.2:{densePort}/realtime").ConnectAsync("room1").DefaultTimeout();
        Assert.True(dense.Connected);
        Assert.False(await AcceptsAsync(IPAddress.Loopback, densePort), $"The dense port answers on 127.0.0.1 too. The host said:\n{host.Output}");
        Assert.True(await AcceptsAsync(IPAddress.Loopback, host.Port), "The app's own URL is no longer bound.");
        Assert.Contains($"Now listening on: http://127.0.0.2:{densePort}", host.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_Realtime_DenseListener_Address_that_is_not_an_address_stops_the_host_with_an_error_naming_the_setting()
    {
        var environment = new Dictionary<string, string>
        {
            ["Realtime__DenseListener__Port"] = HostProcess.FreePort().ToString(CultureInfo.InvariantCulture),
            ["Realtime__DenseListener__Address"] = "everywhere",
        };

        InvalidOperationException exited = await Assert.ThrowsAsync<InvalidOperationException>(() => HostProcess.StartAsync(environment));
        Assert.Contains("Realtime:DenseListener:Address", exited.Message, StringComparison.Ordinal);
        Assert.Contains("everywhere", exited.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// An IPv4 address of this machine that is not loopback (a connection to it stays on this machine), or 127.0.0.2 when there is none:
    /// every 127/8 address is this machine's too (Linux and Windows), and a socket bound to 127.0.0.1 alone does not answer there.
    /// </summary>
    private static IPAddress AnotherAddressOfThisMachine() =>
        NetworkInterface.GetAllNetworkInterfaces()
            .Where(network => network.OperationalStatus == OperationalStatus.Up && network.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(network => network.GetIPProperties().UnicastAddresses)
            .Select(unicast => unicast.Address)
            .FirstOrDefault(address => address.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(address))
        ?? IPAddress.Parse("127.0.0.2");

    /// <summary>A listener of the test's own on that address takes a connection: "refused" there later means no listener, not an address that answers nothing.</summary>
    private static async Task AssertTakesConnectionsAsync(IPAddress address)
    {
        using var control = new TcpListener(address, 0);
        control.Start();
        Assert.True(await AcceptsAsync(address, ((IPEndPoint)control.LocalEndpoint).Port), $"{address} refuses a listener of this test's own: the test cannot tell.");
    }

    /// <summary>Whether a TCP connection to the address and port is accepted or refused; anything else (a timeout, an unreachable address) fails the test.</summary>
    private static async Task<bool> AcceptsAsync(IPAddress address, int port)
    {
        using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(address, port).DefaultTimeout($"a connection to {address}:{port}");
            return true;
        }
        catch (SocketException refused) when (refused.SocketErrorCode == SocketError.ConnectionRefused)
        {
            return false;
        }
    }
}
