using System.Text.Json;
using Microsoft.Data.Sqlite;
using Realtime.TestSupport;

namespace Realtime.Server.Sqlite.Tests;

/// <summary>The runnable host's document settings (docs/stores.md): memory one setting away, a file it cannot use stops it at startup, and
/// the per-connection op limit.</summary>
public sealed class HostConfigurationTests : IDisposable
{
    private readonly TempDatabase _database = new();

    public void Dispose() => _database.Dispose();

    [Fact]
    public async Task With_the_store_set_to_memory_the_host_writes_no_file()
    {
        await using HostProcess host = await HostProcess.StartAsync(new Dictionary<string, string>
        {
            ["Realtime__Documents__Store"] = "memory",
            ["Realtime__Documents__Sqlite"] = _database.File,
        });
        await using OtDocClient client = await OtDocClient.ConnectAsync(host.Url, "doc");
        await client.SubmitAsync("""{"a":5,"seq":1,"x":{},"create":{"type":"json0","data":{}}}""", 0);
        Assert.False(File.Exists(_database.File));
    }

    [Fact]
    public async Task The_op_limit_per_connection_is_a_setting()
    {
        await using HostProcess host = await HostProcess.StartAsync(new Dictionary<string, string>
        {
            ["Realtime__Documents__Store"] = "memory",
            ["Realtime__Documents__MaxOpsPerSecond"] = "1",
        });
        await using OtDocClient client = await OtDocClient.ConnectAsync(host.Url, "doc");
        await client.SubmitAsync("""{"a":5,"seq":1,"x":{},"create":{"type":"json0","data":{}}}""", 0); // the bucket's one op

        // Five at once: the bucket refills one per second, so some are refused (the default, 100, would take them all).
        for (int seq = 2; seq < 7; seq++)
        {
            await client.SendAsync($$"""{"a":5,"seq":{{seq}},"x":{},"op":[{"p":["k{{seq}}"],"oi":1}]}""");
        }

        int refused = 0;
        for (int reply = 0; reply < 5; reply++)
        {
            if ((await client.ReceiveAsync().DefaultTimeout("a reply")).TryGetProperty("error", out JsonElement error))
            {
                Assert.Contains("Too many ops: more than 1 per second", error.GetProperty("message").GetString(), StringComparison.Ordinal);
                refused++;
            }
        }

        Assert.InRange(refused, 1, 5);
    }

    [Fact]
    public async Task A_file_from_a_newer_release_stops_the_host_at_startup_with_the_reason()
    {
        using (new SqliteDocumentStore(_database.File))
        {
        }

        using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = _database.File, Pooling = false }.ToString()))
        {
            connection.Open();
            using SqliteCommand command = connection.CreateCommand();
            command.CommandText = $"PRAGMA user_version = {SqliteSchema.CurrentVersion + 1}";
            command.ExecuteNonQuery();
        }

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => HostProcess.StartAsync(new Dictionary<string, string>
        {
            ["Realtime__Documents__Store"] = "sqlite",
            ["Realtime__Documents__Sqlite"] = _database.File,
        }));
        Assert.Contains("newer than this version of Realtime.Server.Sqlite knows", refused.Message, StringComparison.Ordinal);
    }
}
