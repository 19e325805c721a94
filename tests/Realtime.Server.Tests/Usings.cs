global using Realtime.Client;
global using Realtime.Testing;
