using Microsoft.Extensions.Configuration;

namespace Realtime.Server.Tests.Units;

/// <summary>
/// Where the host binds its dense port: where the app's own URLs bind (from urls, HTTP_PORTS, Kestrel's endpoints or Kestrel's default),
/// each address once, or where Realtime:DenseListener:Address says; and which of the app's URLs the host binds beside it.
/// </summary>
public class DenseListenerBindingTests
{
    [Theory]
    [InlineData("http://127.0.0.1:5000", "127.0.0.1")]
    [InlineData("http://localhost:5000", "localhost")]
    [InlineData("https://LOCALHOST:5001", "localhost")]
    [InlineData("http://[::1]:5000", "::1")]
    [InlineData("http://10.1.2.3:5000", "10.1.2.3")]
    [InlineData("http://0.0.0.0:5000", "0.0.0.0")]
    [InlineData("http://[::]:5000", "*")]
    [InlineData("http://*:5000", "*")]
    [InlineData("http://+:5000", "*")]
    [InlineData("http://example.com:5000", "*")] // Kestrel binds a host name on every interface
    public void The_dense_port_binds_where_the_app_URL_binds(string urls, string expected)
    {
        DenseListener.Bindings bindings = DenseListener.BindingsFor(Configuration(("urls", urls)));

        Assert.Equal([expected], Addresses(bindings));
        Assert.Equal([urls], bindings.AppUrls);
    }

    [Theory]
    [InlineData("http://127.0.0.1:5000;https://127.0.0.1:5001;http://10.1.2.3:5002", "127.0.0.1 10.1.2.3")]
    [InlineData("http://localhost:5000;http://127.0.0.1:5001;http://[::1]:5002;http://127.0.0.2:5003", "localhost 127.0.0.2")] // localhost holds both loopbacks
    [InlineData("http://127.0.0.1:5000;http://*:5001", "*")]
    [InlineData("http://0.0.0.0:5000;http://10.1.2.3:5001;http://[fd00::2]:5002;http://localhost:5003", "0.0.0.0 fd00::2")]
    [InlineData("http://0.0.0.0:5000;http://[::]:5001", "*")]
    [InlineData("http://unix:/tmp/realtime.sock;http://127.0.0.1:5000", "127.0.0.1")]
    public void With_several_URLs_the_dense_port_binds_each_distinct_address_once_and_none_another_one_holds(string urls, string expected)
    {
        DenseListener.Bindings bindings = DenseListener.BindingsFor(Configuration(("urls", urls)));

        Assert.Equal(expected.Split(' '), Addresses(bindings));
        Assert.Equal(urls.Split(';'), bindings.AppUrls);
    }

    [Fact]
    public void Without_URLs_the_app_and_the_dense_port_bind_Kestrel_s_default_localhost()
    {
        DenseListener.Bindings bindings = DenseListener.BindingsFor(Configuration());

        Assert.Equal(["localhost"], Addresses(bindings));
        Assert.Equal(["http://localhost:5000"], bindings.AppUrls);
    }

    [Fact]
    public void HTTP_PORTS_and_HTTPS_PORTS_bind_every_interface_when_no_URL_is_set_and_give_way_to_one()
    {
        DenseListener.Bindings ports = DenseListener.BindingsFor(Configuration(("HTTP_PORTS", "8080;8081"), ("HTTPS_PORTS", "8443")));
        Assert.Equal(["*"], Addresses(ports));
        Assert.Equal(["http://*:8080", "http://*:8081", "https://*:8443"], ports.AppUrls);

        DenseListener.Bindings urls = DenseListener.BindingsFor(Configuration(("HTTP_PORTS", "8080"), ("urls", "http://127.0.0.1:5000")));
        Assert.Equal(["127.0.0.1"], Addresses(urls));
        Assert.Equal(["http://127.0.0.1:5000"], urls.AppUrls);
    }

    [Fact]
    public void Kestrel_s_configured_endpoints_are_followed_and_left_to_Kestrel_which_then_ignores_the_URLs()
    {
        DenseListener.Bindings bindings = DenseListener.BindingsFor(Configuration(
            ("urls", "http://*:5000"),
            ("Kestrel:Endpoints:Http:Url", "http://127.0.0.1:6000"),
            ("Kestrel:Endpoints:Https:Url", "https://[::1]:6001")));

        Assert.Equal(["127.0.0.1", "::1"], Addresses(bindings).Order(StringComparer.Ordinal));
        Assert.Empty(bindings.AppUrls);
    }

    [Theory]
    [InlineData("*", "*")]
    [InlineData("any", "*")]
    [InlineData("ANY", "*")]
    [InlineData("::", "*")]
    [InlineData("localhost", "localhost")]
    [InlineData("127.0.0.2", "127.0.0.2")]
    [InlineData(" 10.1.2.3 ", "10.1.2.3")]
    [InlineData("0.0.0.0", "0.0.0.0")]
    [InlineData("::1", "::1")]
    [InlineData("[::1]", "::1")]
    public void Realtime_DenseListener_Address_overrides_the_URLs(string address, string expected)
    {
        DenseListener.Bindings bindings = DenseListener.BindingsFor(Configuration(("urls", "http://127.0.0.1:5000;http://10.9.9.9:5001"), ("Realtime:DenseListener:Address", address)));

        Assert.Equal([expected], Addresses(bindings));
        Assert.Equal(["http://127.0.0.1:5000", "http://10.9.9.9:5001"], bindings.AppUrls);
    }

    [Theory]
    [InlineData("everywhere")]
    [InlineData("5001")] // IPAddress would read it as 0.0.19.137
    [InlineData("127.1")]
    [InlineData("127.0.0.1:5001")]
    [InlineData("http://127.0.0.1")]
    [InlineData("+")]
    public void A_Realtime_DenseListener_Address_that_is_not_one_is_an_error_naming_the_setting(string address)
    {
        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => DenseListener.BindingsFor(Configuration(("Realtime:DenseListener:Address", address))));

        Assert.StartsWith($"Realtime:DenseListener:Address is \"{address}\": expected", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void URLs_without_a_TCP_address_ask_for_Realtime_DenseListener_Address()
    {
        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => DenseListener.BindingsFor(Configuration(("urls", "http://unix:/tmp/realtime.sock"))));

        Assert.Contains("Realtime:DenseListener:Address", error.Message, StringComparison.Ordinal);
        Assert.Equal(["*"], Addresses(DenseListener.BindingsFor(Configuration(("urls", "http://unix:/tmp/realtime.sock"), ("Realtime:DenseListener:Address", "*")))));
    }

    private static IConfiguration Configuration(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(value => new KeyValuePair<string, string?>(value.Key, value.Value))).Build();

    private static string[] Addresses(DenseListener.Bindings bindings) => bindings.DenseAddresses.Select(address => address.ToString()).ToArray();
}
