using System.Globalization;

namespace Realtime.LoadTest;

/// <summary>Where the document benchmark's systems keep their documents (<c>--store</c>).</summary>
internal enum DocumentStoreKind
{
    /// <summary>Each system's in-memory store (issue 30's comparison).</summary>
    Memory,

    /// <summary>Realtime on its SQLite store (a file in a temporary directory); the peers, which have no SQLite adapter here, on memory.</summary>
    Sqlite,

    /// <summary>Every system on PostgreSQL: Realtime's store, ShareDB's <c>sharedb-postgres</c>, the original's <c>js-collaboration-ot-postgres</c>.</summary>
    Postgres,
}

/// <summary>
/// One system of the document benchmark as it runs for one scenario: its server process (two for Realtime's two-node system, on one
/// redis-server) and, on <see cref="DocumentStoreKind.Postgres"/>, a fresh PostgreSQL of its own, so that no system inherits another's
/// tables, cache or dead rows. Every database connection pool is 20 connections per node, whichever system.
/// </summary>
internal sealed class DocumentDeployment : IAsyncDisposable
{
    /// <summary>Connections per node to PostgreSQL, the same for every system (Npgsql's <c>Maximum Pool Size</c>, node-postgres' <c>max</c>).</summary>
    public const int PoolSize = 20;

    private readonly List<IAsyncDisposable> _owned = [];
    private readonly List<ServerProcess> _nodes = [];
    private string? _directory;

    private DocumentDeployment()
    {
    }

    /// <summary>The servers' ports: editor <c>i</c> connects to <c>Ports[i % Ports.Count]</c>.</summary>
    public IReadOnlyList<int> Ports => [.. _nodes.Select(n => n.Port)];

    /// <summary>The server processes (one, or two for a two-node system).</summary>
    public IReadOnlyList<ServerProcess> Nodes => _nodes;

    /// <summary>The PostgreSQL behind the system, when there is one.</summary>
    public PostgresProcess? Database { get; private set; }

    /// <summary>The servers' CPU time so far (the database's is <see cref="DatabaseCpuTime"/>).</summary>
    public TimeSpan CpuTime => _nodes.Aggregate(TimeSpan.Zero, (sum, n) => sum + n.CpuTime);

    /// <summary>The database's CPU time so far (every backend with its postmaster), or zero without one.</summary>
    public TimeSpan DatabaseCpuTime => Database?.CpuTime ?? TimeSpan.Zero;

    public static async Task<DocumentDeployment> StartAsync(DocumentWire wire, DocumentStoreKind store, string root, string configuration)
    {
        var deployment = new DocumentDeployment();
        try
        {
            var environment = new Dictionary<string, string>();
            bool realtime = wire.ServerSystem == "documents";
            if (store == DocumentStoreKind.Postgres)
            {
                deployment.Database = await PostgresProcess.StartAsync();
                deployment._owned.Add(deployment.Database);
                PostgresProcess db = deployment.Database;
                if (realtime)
                {
                    environment["BENCH_POSTGRES"] = $"Host=127.0.0.1;Port={db.Port};Username={PostgresProcess.User};Database=postgres;Maximum Pool Size={PoolSize}";
                }
                else
                {
                    // node-postgres reads these; the peers' server.js choose their PostgreSQL adapter when BENCH_PG is set.
                    environment["BENCH_PG"] = "1";
                    environment["BENCH_PG_POOL"] = PoolSize.ToString(CultureInfo.InvariantCulture);
                    environment["PGHOST"] = "127.0.0.1";
                    environment["PGPORT"] = db.Port.ToString(CultureInfo.InvariantCulture);
                    environment["PGUSER"] = PostgresProcess.User;
                    environment["PGDATABASE"] = "postgres";
                }
            }
            else if (store == DocumentStoreKind.Sqlite && realtime)
            {
                deployment._directory = Directory.CreateTempSubdirectory("realtime-bench-sqlite-").FullName;
                environment["BENCH_SQLITE"] = Path.Combine(deployment._directory, "documents.db");
            }

            if (wire.Nodes > 1)
            {
                if (store != DocumentStoreKind.Postgres)
                {
                    throw new ArgumentException($"{wire.Name} shares its documents through PostgreSQL: run it with --store postgres.");
                }

                ServerProcess redis = await ServerProcess.StartRedisAsync();
                deployment._owned.Add(redis);
                environment["BENCH_REDIS"] = $"127.0.0.1:{redis.Port}";
            }

            for (int n = 0; n < wire.Nodes; n++)
            {
                ServerProcess node = await ServerProcess.StartAsync(wire.ServerSystem, root, configuration, environment);
                deployment._nodes.Add(node);
            }

            return deployment;
        }
        catch
        {
            await deployment.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (ServerProcess node in _nodes)
        {
            await node.DisposeAsync();
        }

        for (int i = _owned.Count - 1; i >= 0; i--)
        {
            await _owned[i].DisposeAsync();
        }

        if (_directory is not null && Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
