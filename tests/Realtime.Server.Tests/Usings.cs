global using Realtime.Client;
global using Realtime.TestSupport;
global using Realtime.Testing;
