// The original framework's client behaviour (the seed page's Connection), through socket.io-client, against the real
// Realtime server's compatibility endpoint. Run by the .NET test JsCollaborationNodeTests, which starts the server and a
// fault proxy in front of it and passes their origins in REALTIME_ORIGIN and REALTIME_PROXY_ORIGIN. The server: the
// relay; connect middleware rejecting the token "bad"; message middleware rejecting the type "forbidden"; "whoami"
// answered with what the server sees; "echo" sent back to the sender; "close-me" closed by the server; and every
// disconnect announced to the room as a "left" message with the server-side reason. Tests that need the server or the
// network to fail ask the .NET side on stdout (`@@control <command>`) and wait for its "ok" on stdin.
import { test } from "node:test";
import { control, next, origin, proxyOrigin } from "./harness.js";
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { Connection, DisconnectReason, originalGzip } from "./seed-connection.js";
import { Client } from "../../src/Client/realtime-client-js/src/realtime-client.js";

const message = (connection, type) => next(connection, "message", (_, t) => t === type).then(([data]) => data);

let rooms = 0;
const room = () => `node-room-${process.pid}-${++rooms}`;
const connect = async (options, url = origin) => {
  const connection = new Connection(url, options);
  await next(connection, "connect");
  return connection;
};

test("the id is the client's, synchronized with the server, with roomId, query, auth and connected", async () => {
  const roomId = room();
  const a = new Connection(origin, { roomId, query: { user: "ann" }, auth: { token: "t-1" } });
  try {
    assert.equal(a.connected, false);
    assert.equal(a.id, undefined);
    await next(a, "connect");
    assert.equal(a.connected, true);
    assert.match(a.id, /^[0-9A-Za-z]{20}$/);
    assert.equal(a.roomId, roomId);
    const seen = message(a, "whoami");
    a.send(null, "whoami");
    assert.deepEqual(await seen, { id: a.id, roomId, user: "ann", token: "t-1" });
    const closed = next(a, "disconnect");
    a.close();
    assert.deepEqual((await closed)[0], DisconnectReason.CLIENT_DISCONNECT);
    assert.equal(a.connected, false);
    assert.equal(a.id, undefined);
  } finally {
    a.close(); // a failed assertion must not leave a reconnecting socket that keeps the process alive
  }
});

test("send with and without a type, strings and objects, arrives with its type; large data is compressed both ways", async () => {
  const roomId = room();
  const a = await connect({ roomId });
  const b = await connect({ roomId });
  const received = [];
  b.on("message", (data, type) => received.push([data, type]));
  const big = { content: "New paragraph ".repeat(100) };
  const done = next(b, "message", (_, type) => type === "last");
  a.send("Hello, server!");
  a.send("Hello, server!", "document");
  a.send({ userId: "user1", active: true });
  a.send({ userId: "user1", active: true }, "my-presence");
  a.send(big, "my-document");
  a.send(0, "last");
  await done;
  assert.deepEqual(received, [
    ["Hello, server!", null],
    ["Hello, server!", "document"],
    [{ userId: "user1", active: true }, null],
    [{ userId: "user1", active: true }, "my-presence"],
    [big, "my-document"],
    [0, "last"],
  ]);
  a.close();
  b.close();
});

test("on, once and off: a once handler runs once, an off handler never", async () => {
  const roomId = room();
  const a = await connect({ roomId });
  const b = await connect({ roomId });
  let once = 0;
  let removed = 0;
  const handler = () => removed++;
  b.once("message", () => once++);
  b.on("message", handler);
  b.off("message", handler);
  const second = next(b, "message", (_, type) => type === "two");
  a.send(1, "one");
  a.send(2, "two");
  await second;
  assert.equal(once, 1);
  assert.equal(removed, 0);
  a.close();
  b.close();
});

test("a connect middleware rejection raises error with its message and does not reconnect", async () => {
  const rejected = new Connection(origin, { roomId: room(), auth: { token: "bad" } });
  const [error] = await next(rejected, "error");
  assert.equal(error.message, "Authentication failed");
  let attempts = 0;
  rejected.on("reconnectAttempts", () => attempts++);
  await new Promise((resolve) => setTimeout(resolve, 1500)); // longer than the first reconnection delay
  assert.equal(attempts, 0);
  assert.equal(rejected.connected, false);
  rejected.close();
});

test("message_error: a refused message raises error and the connection stays connected", async () => {
  const roomId = room();
  const a = await connect({ roomId });
  const b = await connect({ roomId });
  const error = next(a, "error");
  a.send({ secret: 1 }, "forbidden");
  assert.equal((await error)[0].message, "Not allowed");
  assert.equal(a.connected, true);
  const after = message(b, "after");
  a.send(1, "after");
  assert.equal(await after, 1);
  a.close();
  b.close();
});

test("the server's close is SERVER_DISCONNECT: no reconnection, and the room hears the server-side reason", async () => {
  const roomId = room();
  const watcher = await connect({ roomId });
  const a = await connect({ roomId });
  const id = a.id;
  const left = message(watcher, "left");
  const disconnected = next(a, "disconnect");
  a.send(null, "close-me");
  assert.equal((await disconnected)[0], DisconnectReason.SERVER_DISCONNECT);
  assert.deepEqual(await left, { id, reason: "ServerDisconnect" });
  let attempts = 0;
  a.on("reconnectAttempts", () => attempts++);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.equal(attempts, 0);
  a.close();
  watcher.close();
});

test("the client's close is CLIENT_DISCONNECT on both sides", async () => {
  const roomId = room();
  const watcher = await connect({ roomId });
  const a = await connect({ roomId });
  const id = a.id;
  const left = message(watcher, "left");
  a.close();
  assert.deepEqual(await left, { id, reason: "ClientDisconnect" });
  watcher.close();
});

test("a silent network is PING_TIMEOUT, then the client reconnects with reconnectAttempts and reconnect", async () => {
  const a = await connect({ roomId: room() }, proxyOrigin);
  const attempts = next(a, "reconnectAttempts");
  const disconnected = next(a, "disconnect");
  await control("blackhole");
  assert.equal((await disconnected)[0], DisconnectReason.PING_TIMEOUT);
  await control("heal");
  const reconnected = next(a, "reconnect");
  const connected = next(a, "connect");
  assert.equal((await attempts)[0], 1);
  assert.ok((await reconnected)[0] >= 1);
  await connected;
  assert.equal(a.connected, true);
  a.close();
});

test("a reset connection is TRANSPORT_CLOSE, then the client reconnects", async () => {
  const a = await connect({ roomId: room() }, proxyOrigin);
  const disconnected = next(a, "disconnect");
  await control("reset");
  const [reason, socketIoReason] = await disconnected;
  assert.equal(reason, DisconnectReason.TRANSPORT_CLOSE, socketIoReason); // in Node.js a reset is a close, not an error
  await next(a, "connect");
  a.close();
});

test("bytes corrupted on the way are TRANSPORT_ERROR, then the client reconnects", async () => {
  const a = await connect({ roomId: room() }, proxyOrigin);
  const disconnected = next(a, "disconnect");
  await control("corrupt"); // the next server frame (a ping, at the latest) arrives broken
  const [reason, socketIoReason] = await disconnected;
  await control("heal");
  assert.equal(reason, DisconnectReason.TRANSPORT_ERROR, socketIoReason);
  await next(a, "connect");
  a.close();
});

test("a server restart is TRANSPORT_CLOSE; the client reconnects and flushes what it sent while offline, in order", async () => {
  const roomId = room();
  const a = await connect({ roomId });
  const disconnected = next(a, "disconnect");
  await control("stop");
  assert.equal((await disconnected)[0], DisconnectReason.TRANSPORT_CLOSE);
  assert.equal(a.connected, false);
  const echoes = [];
  const all = new Promise((resolve) => a.on("message", (data, type) => type === "echo" && echoes.push(data) === 3 && resolve()));
  a.send("one", "echo");
  a.send("two", "echo");
  a.send("three", "echo");
  const reconnected = next(a, "reconnect");
  await control("start");
  await reconnected;
  await all;
  assert.deepEqual(echoes, ["one", "two", "three"]);
  a.close();
});

test("reconnectFailed when the attempts run out against a server that is gone", async () => {
  const a = await connect({ roomId: room(), socketOptions: { reconnectionAttempts: 2, reconnectionDelay: 100, reconnectionDelayMax: 200 } });
  const failed = next(a, "reconnectFailed");
  const errors = [];
  a.on("error", (error) => errors.push(error));
  await control("stop");
  try {
    await failed;
    assert.equal(errors.length, 2); // one per failed attempt
  } finally {
    await control("start");
    a.close();
  }
});

test("1000 messages arrive in the order they were sent", async () => {
  const roomId = room();
  const a = await connect({ roomId });
  const b = await connect({ roomId });
  const received = [];
  const done = new Promise((resolve) => b.on("message", (data) => received.push(data) === 1000 && resolve()));
  for (let i = 0; i < 1000; i++) a.send({ i }, "seq");
  await done;
  assert.deepEqual(received.map((m) => m.i), Array.from({ length: 1000 }, (_, i) => i));
  a.close();
  b.close();
});

test("a room mixes the original client and Realtime's own client, both ways, type preserved", async () => {
  const roomId = room();
  const compat = await connect({ roomId });
  const v1 = new Client(origin).connect(roomId);
  await new Promise((resolve) => v1.once("connect", resolve));
  const toV1 = next(v1, "message", (_, type) => type === "from-compat");
  compat.send({ text: "hi", n: [1, 2] }, "from-compat");
  assert.deepEqual((await toV1)[0], { text: "hi", n: [1, 2] });
  const big = { doc: "x".repeat(500) };
  const toCompat = message(compat, "from-v1");
  v1.send(big, "from-v1");
  assert.deepEqual(await toCompat, big);
  v1.close();
  compat.close();
});

test("a second connection presenting a live id replaces the first, which gets SERVER_DISCONNECT", async () => {
  const roomId = room();
  const first = await connect({ roomId });
  const id = first.id;
  const disconnected = next(first, "disconnect");
  const second = await connect({ roomId, id });
  assert.equal((await disconnected)[0], DisconnectReason.SERVER_DISCONNECT);
  assert.equal(second.id, id);
  const seen = message(second, "whoami");
  second.send(null, "whoami");
  assert.equal((await seen).id, id);
  second.close();
});

test("a type of 300 characters arrives unchanged, with small and compressed data", async () => {
  const roomId = room();
  const a = await connect({ roomId });
  const b = await connect({ roomId });
  try {
    const long = "type-".repeat(60);
    const big = { content: "New paragraph ".repeat(100) };
    const received = [];
    b.on("message", (data, type) => received.push([data, type]));
    const done = next(b, "message", (_, type) => type === "after");
    a.send({ n: 1 }, long);
    a.send(big, long + "é");
    a.send(0, "after");
    await done;
    assert.deepEqual(received, [[{ n: 1 }, long], [big, long + "é"], [0, "after"]]);
  } finally {
    a.close(); // a failed assertion must not leave connections that keep the process alive
    b.close();
  }
});

test('the type "" arrives as "" and null as null, also to and from a protocol v1 member of the room', async () => {
  const roomId = room();
  const a = await connect({ roomId });
  const b = await connect({ roomId });
  const v1 = new Client(origin).connect(roomId);
  await new Promise((resolve) => v1.once("connect", resolve));
  try {
    const atB = [];
    const atV1 = [];
    b.on("message", (data, type) => atB.push([data, type]));
    v1.on("message", (data, type) => atV1.push([data, type]));
    const bDone = next(b, "message", (_, type) => type === "end");
    const v1Done = next(v1, "message", (_, type) => type === "end");
    a.send(1, "");
    a.send(2, null);
    a.send(3);
    a.send({ long: "x".repeat(300) }, ""); // compressed on the way, type kept
    a.send(0, "end");
    await bDone;
    await v1Done;
    const expected = [[1, ""], [2, null], [3, null], [{ long: "x".repeat(300) }, ""], [0, "end"]];
    assert.deepEqual(atB, expected);
    assert.deepEqual(atV1, expected);

    const fromV1 = [];
    a.on("message", (data, type) => fromV1.push([data, type]));
    const aDone = next(a, "message", (_, type) => type === "end-v1");
    v1.send(4, "");
    v1.send(5, null);
    v1.send(0, "end-v1");
    await aDone;
    assert.deepEqual(fromV1, [[4, ""], [5, null], [0, "end-v1"]]);
  } finally {
    v1.close();
    a.close();
    b.close();
  }
});

/**
 * Data whose JSON gzips to within a few bytes of its own length, where the compressed flag is decided, with a seeded
 * generator (the same data on every run): words and random characters, about 100 to 400 bytes, plus fixed cases on either
 * side of the 128-byte threshold and one well past it.
 */
function boundaryPayloads(count) {
  let state = 20261207; // xorshift32
  const random = (n) => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % n;
  };
  const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:!?-_+*/=()[]{}<>@#$%&|~^";
  const words = "the quick brown fox jumps over the lazy dog userId active cursor selection".split(" ");
  const payloads = [
    { t: "userId brown brown the active the more then then cursor brown selection quick=KHs.u3-8J3|TU@O|N-sHNu5v?(yq6`{,g<j 2v&M5;rku|3r#w}tj22ynOW8,oyI5eA" },
    "a".repeat(125), // 127 bytes of JSON: never compressed
    "a".repeat(126), // 128 bytes: compressed
    { content: "New paragraph ".repeat(100) },
  ];
  while (payloads.length < count) {
    let text = "";
    for (let i = random(10); i > 0; i--) text += words[random(words.length)] + " ";
    for (let i = 100 + random(300); i > 0; i--) text += alphabet[random(alphabet.length)];
    const data = random(2) ? { t: text } : text;
    const json = Buffer.from(JSON.stringify(data));
    if (Math.abs(gzipSync(json).length - json.length) <= 4) payloads.push(data);
  }
  return payloads;
}

test("the compressed flag is the original's choice frame for frame, also where gzip is shorter than the JSON but its base64 is not", async () => {
  const roomId = room();
  const a = await connect({ roomId });
  const b = await connect({ roomId });
  const v1 = new Client(origin).connect(roomId);
  await new Promise((resolve) => v1.once("connect", resolve));
  try {
    const payloads = boundaryPayloads(60);
    const frames = [];
    b.on("message", (data, type, compressed) => frames.push({ type, json: JSON.stringify(data), compressed }));
    const compatEnd = next(b, "message", (_, type) => type === "compat-end");
    const v1End = next(b, "message", (_, type) => type === "v1-end");
    payloads.forEach((data, i) => a.send(data, `compat-${i}`)); // relayed from the original's client
    payloads.forEach((data, i) => v1.send(data, `v1-${i}`)); // and from protocol v1: the server applies the rule itself
    a.send(0, "compat-end");
    v1.send(0, "v1-end");
    await compatEnd;
    await v1End;

    const relayed = frames.filter((f) => !f.type.endsWith("-end"));
    assert.equal(relayed.length, payloads.length * 2);
    const original = relayed.map((f) => [f.type, originalGzip(f.json) !== null]);
    assert.deepEqual(relayed.map((f) => [f.type, f.compressed]), original);

    // The data covers both answers, and the case where only the gzip's bytes say yes.
    const base64Longer = payloads.filter((data) => {
      const json = JSON.stringify(data);
      const gzipped = originalGzip(json);
      return gzipped !== null && gzipped.toString("base64").length >= Buffer.byteLength(json);
    });
    assert.ok(base64Longer.length >= 10, `only ${base64Longer.length} payloads where gzip is shorter and base64 is not`);
    assert.ok(original.some(([, compressed]) => !compressed));
  } finally {
    v1.close();
    a.close();
    b.close();
  }
});
