using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Server.Kestrel.Core;

/// <summary>
/// The host's dense listener (docs/server.md, "Dense mode"): with <c>Realtime:DenseListener:Port</c> set, Realtime is also served
/// on that port by Kestrel's connection layer, beside the ordinary endpoints. Off by default. It binds where the app's own URLs
/// bind (an app kept on loopback gets no public dense port), or where <c>Realtime:DenseListener:Address</c> says.
/// </summary>
internal static class DenseListener
{
    /// <summary>The dense listener's port; without it there is no dense listener.</summary>
    internal const string PortKey = "Realtime:DenseListener:Port";

    /// <summary>Where the dense port binds instead of where the app's URLs bind: an IP address, <c>localhost</c>, or <c>*</c> (<c>any</c>).</summary>
    internal const string AddressKey = "Realtime:DenseListener:Address";

    /// <summary>Kestrel's default when no URL is configured at all.</summary>
    private const string KestrelDefaultUrl = "http://localhost:5000";

    /// <summary>Opens the dense listener when the configuration asks for it; the app's URLs stay bound.</summary>
    public static void AddWhenConfigured(WebApplicationBuilder builder)
    {
        if (builder.Configuration.GetValue<int?>(PortKey) is not { } port)
        {
            return;
        }

        Bindings bindings = BindingsFor(builder.Configuration);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            foreach (string url in bindings.AppUrls)
            {
                Listen(kestrel, BindingAddress.Parse(url));
            }

            // The hooks are those registered through MapRealtime: one server behind every listener and endpoint.
            foreach (DenseAddress address in bindings.DenseAddresses)
            {
                address.Listen(kestrel, port, listen => listen.UseRealtime("/realtime"));
            }
        });
    }

    /// <summary>What the host binds in code beside the dense port, and where the dense port binds, for this configuration.</summary>
    internal static Bindings BindingsFor(IConfiguration configuration)
    {
        // Kestrel binds the endpoints of its own configuration section itself, and with them it ignores the URLs, as it does
        // without the dense listener. Otherwise a listener set in code replaces the URLs Kestrel would bind, so they are bound here.
        string[] endpoints = configuration.GetSection("Kestrel:Endpoints").GetChildren()
            .Select(endpoint => endpoint["Url"])
            .OfType<string>()
            .Where(url => url.Length > 0)
            .ToArray();
        string[] appUrls = endpoints.Length > 0 ? [] : AppUrls(configuration);
        IReadOnlyList<DenseAddress> dense = configuration[AddressKey] is { Length: > 0 } option
            ? [DenseAddress.Parse(option)]
            : Follow(endpoints.Length > 0 ? endpoints : appUrls);
        return new Bindings(appUrls, dense);
    }

    /// <summary>The URLs Kestrel binds when none is set in code: <c>urls</c> (<c>--urls</c>, <c>ASPNETCORE_URLS</c>), else <c>HTTP_PORTS</c> and <c>HTTPS_PORTS</c> on every interface, else its default.</summary>
    private static string[] AppUrls(IConfiguration configuration)
    {
        string urls = configuration[WebHostDefaults.ServerUrlsKey] ?? string.Empty;
        if (urls.Length == 0)
        {
            urls = string.Join(';', FromPorts(configuration[WebHostDefaults.HttpPortsKey], "http").Concat(FromPorts(configuration[WebHostDefaults.HttpsPortsKey], "https")));
        }

        return (urls.Length > 0 ? urls : KestrelDefaultUrl).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        static IEnumerable<string> FromPorts(string? ports, string scheme) =>
            (ports ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(port => $"{scheme}://*:{port}");
    }

    /// <summary>The addresses of the app's URLs, each once, none covered by another (two sockets cannot both hold 0.0.0.0 and 127.0.0.1 on one port).</summary>
    private static DenseAddress[] Follow(string[] urls)
    {
        var addresses = new List<DenseAddress>();
        foreach (string url in urls)
        {
            BindingAddress parsed = BindingAddress.Parse(url);
            if (!parsed.IsUnixPipe && !parsed.IsNamedPipe)
            {
                addresses.Add(DenseAddress.OfHost(parsed.Host));
            }
        }

        if (addresses.Count == 0)
        {
            throw new InvalidOperationException($"The app's URLs ({string.Join(';', urls)}) have no TCP address for the dense listener to bind: set {AddressKey}.");
        }

        if (addresses.Contains(DenseAddress.Any))
        {
            return [DenseAddress.Any];
        }

        // 0.0.0.0 holds every IPv4 address, localhost's 127.0.0.1 among them; localhost's [::1] is then left out rather than
        // bound alone, which fails where IPv6 is off (Kestrel's localhost tolerates that): the dense port answers in fewer places, never more.
        bool everyIPv4 = addresses.Contains(DenseAddress.Of(IPAddress.Any));
        bool localhost = !everyIPv4 && addresses.Contains(DenseAddress.Localhost);
        return addresses.Distinct()
            .Where(address => !(everyIPv4 && (address.IsLocalhost || address.Address is { AddressFamily: AddressFamily.InterNetwork } ip && !ip.Equals(IPAddress.Any))))
            .Where(address => !(localhost && (IPAddress.Loopback.Equals(address.Address) || IPAddress.IPv6Loopback.Equals(address.Address))))
            .ToArray();
    }

    /// <summary>Binds one of the app's URLs as Kestrel itself would (its address binder): the same listener with or without the dense one.</summary>
    private static void Listen(KestrelServerOptions kestrel, BindingAddress address)
    {
        Action<ListenOptions> configure = string.Equals(address.Scheme, "https", StringComparison.OrdinalIgnoreCase) ? listen => listen.UseHttps() : _ => { };
        if (address.IsUnixPipe)
        {
            kestrel.ListenUnixSocket(address.UnixPipePath, configure);
        }
        else if (address.IsNamedPipe)
        {
            kestrel.ListenNamedPipe(address.NamedPipeName, configure);
        }
        else if (string.Equals(address.Host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            kestrel.ListenLocalhost(address.Port, configure);
        }
        else if (IPAddress.TryParse(address.Host, out IPAddress? ip))
        {
            kestrel.Listen(ip, address.Port, configure); // 0.0.0.0 is every IPv4 address, [::] every address (dual mode)
        }
        else
        {
            kestrel.ListenAnyIP(address.Port, configure); // *, + or a host name: every interface, as Kestrel binds them
        }
    }

    /// <summary>What the host binds.</summary>
    /// <param name="AppUrls">The app's URLs, bound in code beside the dense listener (none when Kestrel binds its configured endpoints).</param>
    /// <param name="DenseAddresses">The addresses the dense port is bound on, one listener each.</param>
    internal sealed record Bindings(IReadOnlyList<string> AppUrls, IReadOnlyList<DenseAddress> DenseAddresses);

    /// <summary>An address the dense port is bound on: every interface, localhost (its IPv4 and IPv6 loopback, as Kestrel binds it), or one IP address.</summary>
    internal readonly record struct DenseAddress
    {
        private DenseAddress(IPAddress? address, bool isLocalhost)
        {
            Address = address;
            IsLocalhost = isLocalhost;
        }

        /// <summary>Every interface (Kestrel's <c>ListenAnyIP</c>: [::] in dual mode, or 0.0.0.0 without IPv6).</summary>
        public static DenseAddress Any { get; } = new(null, isLocalhost: false);

        /// <summary>127.0.0.1 and [::1] (Kestrel's <c>ListenLocalhost</c>).</summary>
        public static DenseAddress Localhost { get; } = new(null, isLocalhost: true);

        /// <summary>The one IP address, when it is one.</summary>
        public IPAddress? Address { get; }

        /// <summary>Whether this is localhost: both loopback addresses, either of which may be missing.</summary>
        public bool IsLocalhost { get; }

        /// <summary>An IP address; [::] is every interface.</summary>
        public static DenseAddress Of(IPAddress address) => address.Equals(IPAddress.IPv6Any) ? Any : new(address, isLocalhost: false);

        /// <summary>Where Kestrel binds a URL's host: localhost, an IP address, or every interface for <c>*</c>, <c>+</c> and host names.</summary>
        public static DenseAddress OfHost(string host) =>
            string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase) ? Localhost
            : IPAddress.TryParse(host, out IPAddress? ip) ? Of(ip)
            : Any;

        /// <summary>Reads <c>Realtime:DenseListener:Address</c>: an IP address (127.0.0.1, ::1, 0.0.0.0), <c>localhost</c>, or <c>*</c> or <c>any</c> for every interface.</summary>
        /// <exception cref="InvalidOperationException">The value is none of them; the message names the setting.</exception>
        public static DenseAddress Parse(string value)
        {
            string text = value.Trim();
            if (text == "*" || string.Equals(text, "any", StringComparison.OrdinalIgnoreCase))
            {
                return Any;
            }

            if (string.Equals(text, "localhost", StringComparison.OrdinalIgnoreCase))
            {
                return Localhost;
            }

            // IPv4 in its four-part form only: IPAddress also reads "5001" as 0.0.19.137, a port given where the address goes.
            if (IPAddress.TryParse(text, out IPAddress? ip) && (ip.AddressFamily == AddressFamily.InterNetworkV6 || text.Count(c => c == '.') == 3))
            {
                return Of(ip);
            }

            throw new InvalidOperationException($"{AddressKey} is \"{value}\": expected an IP address of this machine (127.0.0.1, ::1, 0.0.0.0), localhost, or * (any) for every interface.");
        }

        /// <summary>Binds the port here.</summary>
        public void Listen(KestrelServerOptions kestrel, int port, Action<ListenOptions> configure)
        {
            if (IsLocalhost)
            {
                kestrel.ListenLocalhost(port, configure);
            }
            else if (Address is { } address)
            {
                kestrel.Listen(address, port, configure);
            }
            else
            {
                kestrel.ListenAnyIP(port, configure);
            }
        }

        /// <summary>As the tests and the documentation write it: <c>*</c>, <c>localhost</c>, or the IP address.</summary>
        public override string ToString() => IsLocalhost ? "localhost" : Address?.ToString() ?? "*";
    }
}
