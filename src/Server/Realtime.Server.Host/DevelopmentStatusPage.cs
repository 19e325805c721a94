using System.Net;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

/// <summary>
/// The status page (docs/server.md, "Status page") at <c>/realtime/status</c>, in the Development environment only, for requests
/// from the loopback address: a development-only authentication scheme signs in any loopback request as "local developer", and
/// the page's policy requires that scheme's user; any other request gets 401. In Production nothing is mapped: an app that wants
/// the page there names its own scheme and policy (docs/server.md shows how).
/// </summary>
internal static class DevelopmentStatusPage
{
    internal const string Path = "/realtime/status";
    internal const string Policy = "realtime-status";
    internal const string Scheme = "DevelopmentLoopback";

    public static void AddInDevelopment(WebApplicationBuilder builder)
    {
        if (!builder.Environment.IsDevelopment())
        {
            return;
        }

        // Not the default scheme: only the status page's policy asks it, so no other endpoint sees a signed-in user.
        builder.Services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, LoopbackOnly>(Scheme, null);
        builder.Services.AddAuthorization(o => o.AddPolicy(Policy, p => p.AddAuthenticationSchemes(Scheme).RequireAuthenticatedUser()));
    }

    public static void MapInDevelopment(WebApplication app)
    {
        if (app.Environment.IsDevelopment())
        {
            app.MapRealtimeStatus(Path, Policy);
        }
    }

    private sealed class LoopbackOnly(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            if (Context.Connection.RemoteIpAddress is not { } address || !IPAddress.IsLoopback(address))
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }

            var user = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, "local developer")], DevelopmentStatusPage.Scheme));
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(user, DevelopmentStatusPage.Scheme)));
        }
    }
}
