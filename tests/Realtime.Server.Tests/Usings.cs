global using Realtime.Client;
global using Realtime.TestSupport;
global using Realtime.Testing;
global using Microsoft.Extensions.DependencyInjection;
global using Microsoft.Extensions.Diagnostics.Metrics.Testing;
