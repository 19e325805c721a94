// The original framework's document server, for the document benchmark only: @mescius/js-collaboration with the
// document feature of @mescius/js-collaboration-ot on its in-memory database (MemoryDb), json0 registered as the type.
// Commercial packages: installed only in this folder (never in tests, CI or shipped code). Usage: node server.js <port>
// With BENCH_PG set, the database is its PostgreSQL adapter (@mescius/js-collaboration-ot-postgres, which makes its own
// tables) on the PostgreSQL that node-postgres' PG* variables name, with a pool of BENCH_PG_POOL connections.
const http = require("http");
const { Server } = require("@mescius/js-collaboration");
const { documentFeature, DocumentServices, MemoryDb, TypesManager } = require("@mescius/js-collaboration-ot");
const json0 = require("ot-json0").type;

const port = parseInt(process.argv[2], 10);
TypesManager.register(json0);
const httpServer = http.createServer();
const server = new Server({ httpServer }); // path "/collaboration/", websocket only, as the compatibility endpoint

async function database() {
  if (!process.env.BENCH_PG) return new MemoryDb();
  const { Pool } = require("pg");
  const { PostgresDb } = require("@mescius/js-collaboration-ot-postgres");
  const db = new PostgresDb(new Pool({ max: parseInt(process.env.BENCH_PG_POOL || "10", 10) }));
  await db.init();
  return db;
}

database().then((db) => {
  server.useFeature(documentFeature(new DocumentServices({ db })));
  httpServer.listen(port, "127.0.0.1", () => console.log(`listening on ${port}`));
}).catch((e) => {
  console.error(e);
  process.exit(1);
});
