// The client in Node.js (its global WebSocket) against a real Realtime server, started by the .NET test
// NodeClientTests, which passes its address in REALTIME_URL: the relay, a connect middleware that rejects the
// token "bad" with "Authentication failed", and a room hook that sends "joined" once a connection is in its room.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Client, DisconnectReason } from "../../src/realtime-client.js";

const url = process.env.REALTIME_URL;
if (!url) throw new Error("REALTIME_URL is not set: run this through the .NET test NodeClientTests");

/** Resolves with the handler's arguments the next time `name` is raised, or rejects after 10 s. */
const next = (connection, name) => new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`no ${name} within 10 s`)), 10000);
  connection.once(name, (...args) => {
    clearTimeout(timer);
    resolve(args);
  });
});

test("two Node.js connections in one room exchange text and binary messages through the relay", async () => {
  const client = new Client(url);
  const a = client.connect("node-room", { query: { who: "a" } });
  const b = client.connect("node-room", { query: { who: "b" } });
  // Both are members of the room once the server's "joined" has arrived.
  assert.deepEqual(await Promise.all([next(a, "message"), next(b, "message")]), [[true, "joined"], [true, "joined"]]);
  assert.match(a.id, /^[A-Za-z0-9_-]{20}$/);
  assert.notEqual(a.id, b.id);

  const hello = next(a, "message");
  b.send({ from: "b" }, "hello");
  assert.deepEqual(await hello, [{ from: "b" }, "hello"]);

  const bytes = next(b, "message");
  a.send(new Uint8Array([1, 2, 255]), "bin");
  const [data, type] = await bytes;
  assert.ok(data instanceof ArrayBuffer);
  assert.deepEqual([...new Uint8Array(data)], [1, 2, 255]);
  assert.equal(type, "bin");

  const closed = next(a, "disconnect");
  a.close();
  assert.deepEqual(await closed, [DisconnectReason.CLIENT_DISCONNECT]);
  assert.equal(a.id, undefined);
  b.close();
});

test("a rejected connection raises error with the server's text and does not retry", async () => {
  const connection = new Client(url, { reconnectionDelay: 10 }).connect("node-room", { auth: { token: "bad" } });
  let disconnects = 0;
  connection.on("disconnect", () => disconnects++);
  const [error] = await next(connection, "error");
  assert.equal(error.message, "Authentication failed");
  assert.throws(() => connection.send("x"), /closed/);
  assert.equal(disconnects, 0);
});
