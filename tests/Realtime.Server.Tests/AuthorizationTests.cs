using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Realtime.Server;

namespace Realtime.Server.Tests;

/// <summary>
/// <c>MapRealtime(...).RequireAuthorization()</c> with a real ASP.NET Core authentication scheme on real Kestrel: the
/// policy runs before the upgrade, and the connection carries the authenticated user.
/// </summary>
public class AuthorizationTests
{
    private const string SchemeName = "QueryToken";

    [Fact]
    public async Task Without_credentials_the_upgrade_is_refused_with_401_before_any_WebSocket()
    {
        await using RealtimeTestHost host = await StartAsync(new WatchedList<string>());
        (int status, _) = await RawUpgradeRequest.SendAsync(host.Url + "?roomId=room1");
        Assert.Equal(401, status);
        (int wrongToken, _) = await RawUpgradeRequest.SendAsync(host.Url + "?roomId=room1&access_token=forged");
        Assert.Equal(401, wrongToken);
        Assert.Equal(0, host.Server.ConnectionCount);
    }

    [Fact]
    public async Task With_credentials_the_connection_is_accepted_and_ServerConnection_User_is_the_authenticated_user()
    {
        var users = new WatchedList<string>();
        await using RealtimeTestHost host = await StartAsync(users);
        var client = new Client.Client(host.Url.ToString());
        await using Connection connection = await client.ConnectAsync("room1", new ConnectOptions
        {
            Query = new Dictionary<string, string> { ["access_token"] = "ann-token" },
        }).DefaultTimeout();
        await users.WaitForAsync(u => u.Count == 1, "the connect hook");
        Assert.Equal(["ann|True|" + SchemeName], users.Items);
    }

    private static Task<RealtimeTestHost> StartAsync(WatchedList<string> users) => RealtimeTestHost.StartAppAsync(
        builder =>
        {
            builder.Services.AddRealtime();
            builder.Services.AddAuthentication(SchemeName).AddScheme<AuthenticationSchemeOptions, QueryTokenHandler>(SchemeName, null);
            builder.Services.AddAuthorization();
        },
        app =>
        {
            app.UseAuthentication();
            app.UseAuthorization();
            app.MapRealtime(RealtimeTestHost.DefaultPath, server => server.On(ServerEvents.Connect, ctx =>
            {
                ClaimsIdentity identity = (ClaimsIdentity)ctx.Connection.User.Identity!;
                users.Add($"{identity.Name}|{identity.IsAuthenticated}|{identity.AuthenticationType}");
            })).RequireAuthorization();
        }).DefaultTimeout("Kestrel to start");

    /// <summary>A bearer token in the query string (browsers cannot set headers on a WebSocket), as apps commonly do for WebSockets.</summary>
    private sealed class QueryTokenHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            string? token = Request.Query["access_token"];
            if (token is null)
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }

            if (token != "ann-token")
            {
                return Task.FromResult(AuthenticateResult.Fail("Unknown token."));
            }

            var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "ann")], SchemeName);
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
        }
    }
}
