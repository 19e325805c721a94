using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

/// <summary>
/// The host's dense listener (docs/server.md, "Dense mode"): with <c>Realtime:DenseListener:Port</c> set, Realtime is also served
/// on that port by Kestrel's connection layer, beside the ordinary endpoints. Off by default.
/// </summary>
internal static class DenseListener
{
    /// <summary>Opens the dense listener when the configuration asks for it; the app's URLs stay bound.</summary>
    public static void AddWhenConfigured(WebApplicationBuilder builder)
    {
        if (builder.Configuration.GetValue<int?>("Realtime:DenseListener:Port") is not { } port)
        {
            return;
        }

        // A listener set in code replaces the URLs Kestrel would bind (--urls, ASPNETCORE_URLS, or its default), so they are bound here too.
        string[] urls = (builder.Configuration[WebHostDefaults.ServerUrlsKey] is { Length: > 0 } configured ? configured : "http://localhost:5000")
            .Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            foreach (string url in urls)
            {
                Listen(kestrel, BindingAddress.Parse(url));
            }

            // The hooks are those registered through MapRealtime: one server behind every listener and endpoint.
            kestrel.ListenAnyIP(port, listen => listen.UseRealtime("/realtime"));
        });
    }

    private static void Listen(KestrelServerOptions kestrel, BindingAddress address)
    {
        Action<ListenOptions> configure = string.Equals(address.Scheme, "https", StringComparison.OrdinalIgnoreCase) ? listen => listen.UseHttps() : _ => { };
        if (string.Equals(address.Host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            kestrel.ListenLocalhost(address.Port, configure);
        }
        else if (IPAddress.TryParse(address.Host.Trim('[', ']'), out IPAddress? ip) && !ip.Equals(IPAddress.Any) && !ip.Equals(IPAddress.IPv6Any))
        {
            kestrel.Listen(ip, address.Port, configure);
        }
        else
        {
            kestrel.ListenAnyIP(address.Port, configure); // *, +, 0.0.0.0, [::] or a host name: every interface, as Kestrel binds them
        }
    }
}
