// ShareDB 7 for the document benchmark: its in-memory database and pub/sub (the defaults), json0 (its default type),
// one WebSocket per client carrying ShareDB's own JSON messages, one per WebSocket message. Usage: node server.js <port>
// With BENCH_PG set, the database is sharedb-postgres on the PostgreSQL that node-postgres' PG* variables name, its
// tables made from the adapter's own structure.sql, with a pool of BENCH_PG_POOL connections.
const http = require("http");
const { Duplex } = require("stream");
const ShareDB = require("sharedb");
const { WebSocketServer } = require("ws");

const fs = require("fs");
const path = require("path");

const port = parseInt(process.argv[2], 10);
let db; // undefined: MemoryDB
if (process.env.BENCH_PG) {
  const PostgresDB = require("sharedb-postgres");
  db = new PostgresDB({ max: parseInt(process.env.BENCH_PG_POOL || "10", 10) });
}
const backend = new ShareDB({ db }); // MemoryPubSub, json0
const httpServer = http.createServer();
const wss = new WebSocketServer({ server: httpServer, perMessageDeflate: false });

// The object stream Backend.listen expects: each WebSocket message is one JSON request; each object written is sent.
wss.on("connection", (socket, request) => {
  const stream = new Duplex({
    objectMode: true,
    read() {},
    write(message, _encoding, done) {
      if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
      done();
    },
  });
  socket.on("message", (data) => {
    let message;
    try {
      message = JSON.parse(data.toString());
    } catch {
      socket.close(1003, "not JSON");
      return;
    }
    stream.push(message);
  });
  socket.on("close", () => {
    stream.push(null);
    stream.destroy();
  });
  stream.on("error", () => socket.terminate());
  stream.on("finish", () => socket.close()); // the agent closed its side

  backend.listen(stream, request);
});

async function start() {
  if (process.env.BENCH_PG) {
    const { Client } = require("pg");
    const client = new Client();
    await client.connect();
    await client.query(fs.readFileSync(path.join(path.dirname(require.resolve("sharedb-postgres")), "structure.sql"), "utf8"));
    await client.end();
  }
  httpServer.listen(port, "127.0.0.1", () => console.log(`listening on ${port}`));
}

start().catch((e) => {
  console.error(e);
  process.exit(1);
});
