using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Realtime.Server;
using Realtime.Testing;

namespace Realtime.TestSupport;

/// <summary>How a test maps the status page.</summary>
public enum StatusPageGuard
{
    /// <summary><c>MapRealtimeStatus(path, "realtime-status")</c>: the test scheme's user with role <c>ops</c> gets it.</summary>
    Policy,

    /// <summary><c>MapRealtimeStatus(path)</c> and nothing else: every request is refused.</summary>
    None,

    /// <summary><c>MapRealtimeStatus(path).AllowAnonymous()</c>: still refused.</summary>
    AllowAnonymous,
}

/// <summary>
/// A real Kestrel app with the Realtime relay at <c>/realtime</c> and the status page at <see cref="Path"/>, behind a test
/// authentication scheme: a request with the header <see cref="UserHeader"/> is that user (with role <c>ops</c> when the name is
/// <c>ops</c>); one without it is anonymous (401 from the policy).
/// </summary>
public static class StatusPageHost
{
    public const string Path = "/realtime/status";
    public const string Policy = "realtime-status";
    public const string UserHeader = "X-Test-User";

    public static Task<RealtimeTestHost> StartAsync(StatusPageGuard guard = StatusPageGuard.Policy, Action<RealtimeOptions>? configureOptions = null,
                                                   LogSink? logs = null, Action<WebApplicationBuilder>? configureBuilder = null)
        => RealtimeTestHost.StartAppAsync(
            builder =>
            {
                if (logs is not null)
                {
                    builder.Logging.SetMinimumLevel(LogLevel.Debug).AddProvider(logs);
                }

                builder.Services.AddRealtime(configureOptions);
                builder.Services.AddAuthentication(TestScheme.Name).AddScheme<AuthenticationSchemeOptions, TestScheme>(TestScheme.Name, null);
                builder.Services.AddAuthorization(o => o.AddPolicy(Policy, p => p.RequireRole("ops")));
                configureBuilder?.Invoke(builder);
            },
            app =>
            {
                app.MapRealtime(RealtimeTestHost.DefaultPath, server => server.On(ServerEvents.Message, ctx => ctx.Connection.Broadcast(ctx.Message)));
                switch (guard)
                {
                    case StatusPageGuard.Policy:
                        app.MapRealtimeStatus(Path, Policy);
                        break;
                    case StatusPageGuard.None:
                        app.MapRealtimeStatus(Path);
                        break;
                    default:
                        app.MapRealtimeStatus(Path).AllowAnonymous();
                        break;
                }
            }).DefaultTimeout("Kestrel to start");

    /// <summary>The test scheme: the user named by the request's <see cref="UserHeader"/>, or no result.</summary>
    private sealed class TestScheme(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        public const string Name = "Test";

        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            if (Request.Headers[UserHeader] is not [{ Length: > 0 } user])
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }

            List<Claim> claims = [new(ClaimTypes.Name, user)];
            if (user == "ops")
            {
                claims.Add(new Claim(ClaimTypes.Role, "ops"));
            }

            var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, Name));
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, Name)));
        }
    }
}
