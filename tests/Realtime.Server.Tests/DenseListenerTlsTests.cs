using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace Realtime.Server.Tests;

/// <summary>TLS on the dense listener is Kestrel's own: <c>UseHttps()</c> on the listener, then <c>UseRealtime()</c>.</summary>
public sealed class DenseListenerTlsTests : IAsyncLifetime
{
    private readonly X509Certificate2 _certificate = SelfSigned();
    private WebApplication _app = null!;
    private int _port;
    private readonly TaskCompletionSource<(bool IsHttps, string Scheme)> _seen = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task InitializeAsync()
    {
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            _port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddRealtime();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, _port, l =>
        {
            l.UseHttps(_certificate);
            l.UseRealtime("/realtime", server => server
                .Use(ServerEvents.Connect, async (ctx, next) =>
                {
                    _seen.TrySetResult((ctx.HttpContext.Request.IsHttps, ctx.HttpContext.Request.Scheme));
                    await next();
                })
                .On(ServerEvents.Message, ctx => ctx.Connection.Broadcast(ctx.Message)));
        }));
        _app = builder.Build();
        await _app.StartAsync().DefaultTimeout("the app to start");
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        _certificate.Dispose();
    }

    [Fact]
    public async Task Clients_connect_over_wss_and_exchange_messages_and_connect_middleware_sees_https()
    {
        await using Connection ann = await ClientTrustingOurCertificate().ConnectAsync("room1").DefaultTimeout();
        await using Connection bob = await ClientTrustingOurCertificate().ConnectAsync("room1").DefaultTimeout();
        var onBob = new ConnectionRecorder(bob);
        ann.Send("over TLS", "chat");
        await onBob.WaitForEventAsync("message:chat");
        Assert.Equal("over TLS", onBob.Messages.Single().Data.GetString());
        Assert.Equal((true, "https"), await _seen.Task.DefaultTimeout());
    }

    [Fact]
    public async Task A_plain_ws_client_on_the_tls_listener_fails_to_connect_and_the_listener_keeps_serving()
    {
        var plain = new Client.Client($"ws://127.0.0.1:{_port}/realtime", new ClientOptions { Reconnection = false });
        await Assert.ThrowsAnyAsync<Exception>(() => plain.ConnectAsync("room1").DefaultTimeout());
        await using Connection after = await ClientTrustingOurCertificate().ConnectAsync("room1").DefaultTimeout();
        Assert.True(after.Connected);
    }

    private Client.Client ClientTrustingOurCertificate() => new($"wss://127.0.0.1:{_port}/realtime", new ClientOptions
    {
        WebSocketFactory = async (uri, protocols, ct) =>
        {
            var socket = new ClientWebSocket();
            socket.Options.RemoteCertificateValidationCallback = (_, presented, _, _) => presented is not null && presented.GetCertHashString() == _certificate.GetCertHashString();
            foreach (string protocol in protocols)
            {
                socket.Options.AddSubProtocol(protocol);
            }

            await socket.ConnectAsync(uri, ct);
            return socket;
        },
    });

    private static X509Certificate2 SelfSigned()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using X509Certificate2 certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), null); // with its private key usable by SslStream
    }
}
