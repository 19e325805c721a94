import { test, mock, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import { Client, DisconnectReason } from "../src/realtime-client.js";
import { fakeWebSocket, settle } from "./fake-websocket.js";

let fake;
beforeEach(() => {
  fake = fakeWebSocket();
  mock.timers.enable({ apis: ["setTimeout", "Date"] });
});
afterEach(() => mock.timers.reset());

/** A client on the fake socket; options override the defaults. */
const client = (options = {}) => new Client("http://localhost:5000", { WebSocket: fake.WebSocket, ...options });

/** Records every event of a connection as "name:args". */
function record(connection) {
  const events = [];
  for (const name of ["connect", "message", "disconnect", "error", "reconnectAttempts", "reconnect", "reconnectFailed"]) {
    connection.on(name, (...args) => events.push([name, ...args.map((a) => (a instanceof Error ? a.message : a))].join(":")));
  }
  return events;
}

const accept = (id) => fake.accept(id);

test("the url defaults to ws for http, and the endpoint is the path with roomId and the query", async () => {
  const c = client();
  assert.equal(c.url, "ws://localhost:5000");
  assert.equal(new Client("https://example.com:8443/app/", { WebSocket: fake.WebSocket }).url, "wss://example.com:8443");
  c.connect("room 1", { query: { user: "ann", roomId: "ignored" } });
  await settle();
  assert.equal(fake.sockets[0].url, "ws://localhost:5000/realtime?roomId=room+1&user=ann");
  assert.equal(fake.sockets[0].protocol, "realtime.v1");
  assert.throws(() => new Client(undefined, { WebSocket: fake.WebSocket }), /a url is required/);
});

test("hello carries auth, evaluated anew before every attempt, also when it is an async function", async () => {
  let n = 0;
  const connection = client({ randomizationFactor: 0 }).connect("room1", { auth: async () => ({ token: `t${++n}` }) });
  await settle();
  let ws = await accept("A".repeat(20));
  assert.deepEqual(ws.frames[0], { t: "hello", auth: { token: "t1" }, recover: true });
  ws.serverClose(1001);
  mock.timers.tick(1000);
  ws = await accept("B".repeat(20));
  assert.deepEqual(ws.frames[0], { t: "hello", auth: { token: "t2" }, recover: true });
  assert.equal(connection.id, "B".repeat(20));
  client().connect("room1");
  await settle();
  fake.sockets.at(-1).open();
  await settle();
  assert.deepEqual(fake.sockets.at(-1).frames[0], { t: "hello", recover: true });
});

test("backoff doubles from reconnectionDelay up to reconnectionDelayMax, from a failed first attempt", async () => {
  const connection = client({ randomizationFactor: 0, reconnectionDelay: 1000, reconnectionDelayMax: 5000 }).connect("room1");
  const events = record(connection);
  await settle();
  const startedAt = [];
  for (let i = 0; i < 6; i++) {
    startedAt.push(Date.now());
    fake.sockets.at(-1).serverClose(1006);
    const before = fake.sockets.length;
    let waited = 0;
    while (fake.sockets.length === before) {
      mock.timers.tick(100);
      waited += 100;
      await settle();
      assert.ok(waited <= 10000, "no attempt within 10 s");
    }
  }
  const gaps = startedAt.slice(1).map((t, i) => t - startedAt[i]);
  assert.deepEqual(gaps, [1000, 2000, 4000, 5000, 5000]);
  assert.deepEqual(events.slice(0, 4), ["error:Could not connect to ws://localhost:5000 (close code 1006)", "reconnectAttempts:1", "error:Could not connect to ws://localhost:5000 (close code 1006)", "reconnectAttempts:2"]);
});

test("jitter draws each delay from [d·(1 − f), d·(1 + f)]", async (t) => {
  for (const [random, expected] of [[0, 500], [0.75, 1250]]) {
    fake = fakeWebSocket();
    t.mock.method(Math, "random", () => random);
    const connection = client({ randomizationFactor: 0.5 }).connect("room1");
    await settle();
    fake.sockets[0].serverClose(1006);
    mock.timers.tick(expected - 1);
    await settle();
    assert.equal(fake.sockets.length, 1, `not before ${expected} ms`);
    mock.timers.tick(1);
    await settle();
    assert.equal(fake.sockets.length, 2, `at ${expected} ms`);
    connection.close();
  }
});

test("on returns the handler, once runs once, off removes either, and unknown events are refused", async () => {
  const connection = client().connect("room1");
  const seen = [];
  const h = connection.on("message", (d) => seen.push(`on:${d}`));
  assert.equal(typeof h, "function");
  const o = connection.once("message", (d) => seen.push(`once:${d}`));
  const removed = connection.once("message", (d) => seen.push(`removed:${d}`));
  connection.off("message", removed);
  const ws = await accept();
  ws.receive({ t: "msg", data: 1 });
  ws.receive({ t: "msg", data: 2 });
  connection.off("message", h);
  ws.receive({ t: "msg", data: 3 });
  assert.deepEqual(seen, ["on:1", "once:1", "on:2"]);
  assert.equal(typeof o, "function");
  assert.throws(() => connection.on("reconnect_attempt", () => {}), /Unknown event "reconnect_attempt"/);
});

test("a handler that throws breaks neither the connection nor the other handlers", async (t) => {
  const reported = [];
  t.mock.method(console, "error", (e) => reported.push(e.message));
  const connection = client().connect("room1");
  connection.on("message", () => {
    throw new Error("handler bug");
  });
  const seen = [];
  connection.on("message", (d, type) => seen.push([d, type]));
  const ws = await accept();
  ws.receive({ t: "msg", type: "a", data: { x: 1 } });
  ws.receive({ t: "msg", data: null });
  ws.receive({ t: "msg" });
  assert.deepEqual(seen, [[{ x: 1 }, "a"], [null, null], [null, null]]);
  assert.deepEqual(reported, ["handler bug", "handler bug", "handler bug"]);
  assert.equal(connection.connected, true);
});

test("sends while offline wait in the buffer and go out after welcome, in order, before the connect handlers' own", async () => {
  const connection = client({ maxBufferedMessages: 2 }).connect("room1");
  connection.send("one");
  connection.send({ n: 2 }, "typed");
  assert.throws(() => connection.send("three"), /The send buffer is full \(2 messages, maxBufferedMessages\)/);
  connection.on("connect", () => connection.send("from connect"));
  const ws = await accept();
  assert.deepEqual(ws.frames.slice(1), [
    { t: "msg", data: "one" },
    { t: "msg", type: "typed", data: { n: 2 } },
    { t: "msg", data: "from connect" },
  ]);
  connection.close();
  assert.throws(() => connection.send("late"), /The connection is closed/);
});

test("send carries a trace context in a text frame only, and a tracestate only with a traceparent", async () => {
  const connection = client().connect("room1");
  const ws = await accept();
  const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  connection.send({ a: 1 }, "doc", { traceparent, tracestate: "congo=t61rcWkgMzE" });
  connection.send(2, null, { tracestate: "x=y" });
  connection.send(new Uint8Array([7]), "b", { traceparent });
  connection.send(3, "plain");
  assert.equal(ws.sent[1], `{"t":"msg","type":"doc","data":{"a":1},"traceparent":"${traceparent}","tracestate":"congo=t61rcWkgMzE"}`);
  assert.equal(ws.sent[2], '{"t":"msg","data":2}');
  assert.deepEqual([...ws.sent[3]], [1, 1, 0x62, 7]);
  assert.equal(ws.sent[4], '{"t":"msg","type":"plain","data":3}');
});

test("binary data is framed as [1][typeLength][type][payload] both ways, and a type over 255 bytes is refused", async () => {
  const connection = client().connect("room1");
  const got = [];
  connection.on("message", (data, type) => got.push([new Uint8Array(data), type]));
  const ws = await accept();
  connection.send(new Uint8Array([7, 8]), "é");
  connection.send(new DataView(new Uint8Array([9]).buffer));
  assert.deepEqual([...ws.sent[1]], [1, 2, 0xc3, 0xa9, 7, 8]);
  assert.deepEqual([...ws.sent[2]], [1, 0, 9]);
  ws.receive(new Uint8Array([1, 1, 0x62, 5, 6]).buffer);
  ws.receive(new Uint8Array([1, 0]).buffer);
  assert.deepEqual(got, [[new Uint8Array([5, 6]), "b"], [new Uint8Array([]), null]]);
  assert.throws(() => connection.send("x", "t".repeat(256)), RangeError);
});

test("the empty type is a type of its own: sent and received as \"\" in text, refused with binary data", async () => {
  const connection = client().connect("room1");
  const got = [];
  connection.on("message", (data, type) => got.push([data, type]));
  const ws = await accept();
  connection.send(1, "");
  connection.send(2, null);
  connection.send(3);
  assert.deepEqual(ws.frames.slice(1), [{ t: "msg", type: "", data: 1 }, { t: "msg", data: 2 }, { t: "msg", data: 3 }]);
  // A binary frame has no room for "": its typeLength 0 is no type.
  assert.throws(() => connection.send(new Uint8Array([1]), ""), RangeError);
  assert.equal(ws.sent.length, 4);
  ws.receive({ t: "msg", type: "", data: 4 });
  ws.receive({ t: "msg", type: null, data: 5 });
  ws.receive({ t: "msg", data: 6 });
  ws.receive(new Uint8Array([1, 0, 7]).buffer);
  assert.deepEqual(got.map(([data, type]) => [data instanceof ArrayBuffer ? [...new Uint8Array(data)] : data, type]), [
    [4, ""], [5, null], [6, null], [[7], null],
  ]);
});

test("the full reconnection sequence: disconnect, attempts with errors, reconnect(n), connect, and a new id", async () => {
  const connection = client({ randomizationFactor: 0 }).connect("room1");
  const events = record(connection);
  const inDisconnect = [];
  connection.on("disconnect", () => inDisconnect.push([connection.id, connection.connected]));
  let ws = await accept("A".repeat(20));
  assert.equal(connection.id, "A".repeat(20));
  ws.serverClose(1001);
  mock.timers.tick(1000);
  await settle();
  fake.sockets.at(-1).serverClose(1006);
  mock.timers.tick(2000);
  await settle();
  ws = await accept("B".repeat(20));
  assert.deepEqual(events, [
    "connect", "disconnect:3", "reconnectAttempts:1", "error:Could not connect to ws://localhost:5000 (close code 1006)",
    "reconnectAttempts:2", "reconnect:2", "connect",
  ]);
  assert.deepEqual(inDisconnect, [[undefined, false]]);
  assert.equal(connection.id, "B".repeat(20));
});

test("close codes map to reasons, and 4000, 4002 and close() end reconnection", async () => {
  for (const [code, reason, reconnects] of [[4000, 1, false], [4001, 2, true], [1000, 3, true], [1006, 3, true], [1002, 4, true], [4003, 4, true], [1011, 4, true]]) {
    fake = fakeWebSocket();
    const connection = client({ randomizationFactor: 0 }).connect("room1");
    const events = record(connection);
    (await accept()).serverClose(code);
    mock.timers.tick(1000);
    await settle();
    assert.deepEqual(events, reconnects ? ["connect", `disconnect:${reason}`, "reconnectAttempts:1"] : ["connect", `disconnect:${reason}`], `close ${code}`);
    connection.close();
  }

  fake = fakeWebSocket();
  const connection = client().connect("room1");
  const events = record(connection);
  const ws = await accept();
  connection.close();
  assert.deepEqual(ws.closedWith, { code: 1000, reason: "client closed" });
  mock.timers.tick(60000);
  await settle();
  assert.deepEqual(events, ["connect", `disconnect:${DisconnectReason.CLIENT_DISCONNECT}`]);
  assert.equal(fake.sockets.length, 1);
});

test("a rejection raises error with the server's text, no disconnect, and no further attempt", async () => {
  const connection = client().connect("room1");
  const events = record(connection);
  await settle();
  const ws = fake.sockets[0];
  ws.open();
  await settle();
  ws.receive({ t: "reject", message: "Authentication failed" });
  ws.serverClose(4002, "rejected");
  mock.timers.tick(60000);
  await settle();
  assert.deepEqual(events, ["error:Authentication failed"]);
  assert.equal(fake.sockets.length, 1);
  assert.throws(() => connection.send("x"), /closed/);
});

test("the server's error frame raises error and the connection stays open", async () => {
  const connection = client().connect("room1");
  const events = record(connection);
  const ws = await accept();
  ws.receive({ t: "error", message: "Not allowed to edit" });
  ws.receive({ t: "future-kind" });
  assert.deepEqual(events, ["connect", "error:Not allowed to edit"]);
  assert.equal(connection.connected, true);
});

test("every ping is answered with pong and re-arms the watchdog; silence for pingInterval + pingTimeout is a ping timeout", async () => {
  const connection = client({ randomizationFactor: 0 }).connect("room1");
  const events = record(connection);
  await settle();
  const ws = fake.sockets[0];
  ws.open();
  await settle();
  ws.welcome("A".repeat(20), 1000, 500);
  mock.timers.tick(1400);
  ws.receive({ t: "ping" });
  assert.deepEqual(ws.frames.at(-1), { t: "pong" });
  mock.timers.tick(1499);
  assert.deepEqual(events, ["connect"]);
  mock.timers.tick(1);
  assert.deepEqual(events, ["connect", "disconnect:2"]);
  assert.deepEqual(ws.closedWith, { code: 4001, reason: "ping timeout" });
  mock.timers.tick(1000);
  await settle();
  assert.equal(fake.sockets.length, 2);
});

test("an attempt with no welcome within timeout fails with an error and is retried", async () => {
  const connection = client({ timeout: 3000, randomizationFactor: 0 }).connect("room1");
  const events = record(connection);
  await settle();
  fake.sockets[0].open();
  mock.timers.tick(3000);
  assert.deepEqual(events, ["error:The connection attempt timed out after 3000 ms (timeout)"]);
  assert.equal(fake.sockets[0].closedWith.code, 1000);
  mock.timers.tick(1000);
  await settle();
  assert.equal(fake.sockets.length, 2);
});

test("a server frame that breaks the protocol closes with 4400 and reports TRANSPORT_ERROR", async () => {
  const connection = client({ randomizationFactor: 0 }).connect("room1");
  const events = record(connection);
  const ws = await accept();
  ws.receive("not json");
  assert.deepEqual(events, ["connect", "disconnect:4"]);
  assert.equal(ws.closedWith.code, 4400);
});

test("reconnectFailed after reconnectionAttempts, and reconnection: false never retries", async () => {
  const connection = client({ randomizationFactor: 0, reconnectionAttempts: 2 }).connect("room1");
  const events = record(connection);
  (await accept()).serverClose(1006);
  for (let i = 0; i < 2; i++) {
    mock.timers.tick(5000);
    await settle();
    fake.sockets.at(-1).serverClose(1006);
  }
  assert.deepEqual(events.filter((e) => !e.startsWith("error")), ["connect", "disconnect:3", "reconnectAttempts:1", "reconnectAttempts:2", "reconnectFailed"]);

  fake = fakeWebSocket();
  const once = client({ reconnection: false }).connect("room1");
  const onceEvents = record(once);
  (await accept()).serverClose(1001);
  mock.timers.tick(60000);
  await settle();
  assert.deepEqual(onceEvents, ["connect", "disconnect:3"]);
  assert.equal(fake.sockets.length, 1);
});

test("destroy closes and removes every listener", async () => {
  const connection = client().connect("room1");
  const events = record(connection);
  await accept();
  connection.destroy();
  assert.deepEqual(events, ["connect", "disconnect:0"]);
  assert.equal(connection.connected, false);
});
