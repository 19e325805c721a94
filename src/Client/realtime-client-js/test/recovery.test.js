import { test, mock, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import { Client } from "../src/realtime-client.js";
import { fakeWebSocket, settle } from "./fake-websocket.js";

const A = "A".repeat(20);
const B = "B".repeat(20);
const C = "C".repeat(20);

let fake;
beforeEach(() => {
  fake = fakeWebSocket();
  mock.timers.enable({ apis: ["setTimeout", "Date"] });
});
afterEach(() => mock.timers.reset());

const connect = (options = {}) => new Client("http://localhost:5000", { WebSocket: fake.WebSocket, randomizationFactor: 0, ...options }).connect("room1");

/** Drops the socket; the client's next attempt (after the first backoff delay) is accepted with `id` and the welcome's `recovery` fields. */
async function reconnect(ws, id, recovery) {
  ws.serverClose(1006);
  mock.timers.tick(1000);
  return fake.accept(id, recovery);
}

/** A positioned binary frame: [2][posLength][pos][typeLength][type][payload]. */
function positioned(pos, type, payload) {
  const p = new TextEncoder().encode(pos);
  const t = new TextEncoder().encode(type ?? "");
  return new Uint8Array([2, p.length, ...p, t.length, ...t, ...payload]).buffer;
}

/** Records the messages and the connection events, with `recovered` as each event saw it. */
function record(connection) {
  const events = [];
  connection.on("message", (data, type) => events.push(["message", data instanceof ArrayBuffer ? [...new Uint8Array(data)] : data, type]));
  for (const name of ["connect", "reconnect", "disconnect"]) connection.on(name, () => events.push([name, connection.recovered]));
  return events;
}

test("every hello asks for recovery; a reconnection offers the last welcome's token and the last position received", async () => {
  const connection = connect();
  let ws = await fake.accept(A, { resume: "token-1", pos: "ep:5" });
  assert.deepEqual(ws.frames[0], { t: "hello", recover: true });

  ws.receive({ t: "msg", type: "chat", data: 1, pos: "ep:6" });
  ws.receive({ t: "msg", type: "direct", data: 2 }); // a direct send: no position, nothing changes
  ws.receive(positioned("ep:7", "bin", [9]));
  ws.receive({ t: "error", message: "refused" });
  ws = await reconnect(ws, B, { resume: "token-2", pos: "ep:7", recovered: true });
  assert.deepEqual(ws.frames[0], { t: "hello", recover: true, resume: "token-1", pos: "ep:7" });
  assert.equal(connection.recovered, true);

  // Nothing received since: the welcome's own position is offered, with that welcome's token (a token is used once).
  ws = await reconnect(ws, C, { resume: "token-3", pos: "ep:7", recovered: true });
  assert.deepEqual(ws.frames[0], { t: "hello", recover: true, resume: "token-2", pos: "ep:7" });
});

test("a welcome with no token (a room without history, a server without recovery) makes the next hello offer nothing", async () => {
  const connection = connect();
  let ws = await fake.accept(A, { resume: "token-1", pos: "ep:5" });
  ws = await reconnect(ws, B, { recovered: false });
  assert.equal(connection.recovered, false);
  ws.receive({ t: "msg", data: 1, pos: "ep:9" });
  ws = await reconnect(ws, C);
  assert.deepEqual(ws.frames[0], { t: "hello", recover: true });
  assert.equal(connection.recovered, false);
});

test("an attempt that fails before its welcome keeps the token for the next attempt", async () => {
  const connection = connect();
  const ws = await fake.accept(A, { resume: "token-1", pos: "ep:5" });
  ws.serverClose(1006);
  mock.timers.tick(1000);
  await settle();
  fake.sockets.at(-1).open();
  await settle();
  assert.deepEqual(fake.sockets.at(-1).frames[0], { t: "hello", recover: true, resume: "token-1", pos: "ep:5" });
  fake.sockets.at(-1).serverClose(1006);
  mock.timers.tick(2000);
  const next = await fake.accept(B, { resume: "token-2", pos: "ep:5", recovered: true });
  assert.deepEqual(next.frames[0], { t: "hello", recover: true, resume: "token-1", pos: "ep:5" });
  assert.equal(connection.recovered, true);
});

test("recovered is set before reconnect and connect, false on a first connection and when the server did not recover", async () => {
  const connection = connect();
  const events = record(connection);
  assert.equal(connection.recovered, false);
  let ws = await fake.accept(A, { resume: "token-1", pos: "ep:5" });
  ws = await reconnect(ws, B, { resume: "token-2", pos: "ep:5", recovered: true });
  ws = await reconnect(ws, C, { resume: "token-3", pos: "ep:40", recovered: false });
  assert.deepEqual(events, [
    ["connect", false],
    ["disconnect", false], ["reconnect", true], ["connect", true],
    ["disconnect", true], ["reconnect", false], ["connect", false],
  ]);
});

test("recovered stays false when a welcome says so without having been offered a token", async () => {
  const connection = connect();
  const ws = await fake.accept(A, { recovered: true });
  assert.equal(connection.recovered, false);
  await reconnect(ws, B, { recovered: true });
  assert.equal(connection.recovered, false);
});

test("replayed messages arrive through message after connect, in order, and what was sent offline goes out after the welcome", async () => {
  const connection = connect();
  let ws = await fake.accept(A, { resume: "token-1", pos: "ep:0" });
  ws.receive({ t: "msg", type: "chat", data: "one", pos: "ep:1" });
  ws.serverClose(1006);
  connection.send("sent offline", "chat");
  const events = record(connection);
  mock.timers.tick(1000);
  ws = await fake.accept(B, { resume: "token-2", pos: "ep:1", recovered: true });
  ws.receive({ t: "msg", type: "chat", data: "two", pos: "ep:2" });
  ws.receive(positioned("ep:3", "bin", [3]));
  ws.receive({ t: "msg", type: "chat", data: "four", pos: "ep:4" });
  assert.deepEqual(ws.frames, [
    { t: "hello", recover: true, resume: "token-1", pos: "ep:1" },
    { t: "msg", type: "chat", data: "sent offline" },
  ]);
  assert.deepEqual(events, [
    ["reconnect", true], ["connect", true],
    ["message", "two", "chat"], ["message", [3], "bin"], ["message", "four", "chat"],
  ]);
});

test("a positioned binary frame is an ordinary binary message, with or without a type", async () => {
  const connection = connect();
  const events = record(connection);
  const ws = await fake.accept(A, { resume: "token-1", pos: "ep:0" });
  ws.receive(positioned("ep:1", "é", [1, 2]));
  ws.receive(positioned("ep:2", null, []));
  ws.receive(positioned("1733600000.123456:3", null, [255]));
  assert.deepEqual(events.slice(1), [["message", [1, 2], "é"], ["message", [], null], ["message", [255], null]]);
  assert.equal(connection.connected, true);
  const next = await reconnect(ws, B);
  assert.equal(next.frames[0].pos, "1733600000.123456:3");
});

test("a malformed positioned binary frame is a protocol violation: 4400 and TRANSPORT_ERROR", async () => {
  const frames = [
    [2],
    [2, 0],
    [2, 3, 0x65, 0x70], // the position is cut short
    [2, 1, 0x31], // no typeLength
    [2, 1, 0x31, 2, 0x62], // the type is cut short
    [2, 1, 0xff, 0], // the position is not UTF-8
    [2, 1, 0x31, 1, 0xff], // the type is not UTF-8
    [3, 0, 0],
  ];
  for (const bytes of frames) {
    fake = fakeWebSocket();
    const connection = connect();
    const disconnects = [];
    connection.on("disconnect", (reason) => disconnects.push(reason));
    const ws = await fake.accept(A, { resume: "token-1", pos: "ep:0" });
    ws.receive(new Uint8Array(bytes).buffer);
    assert.deepEqual(disconnects, [4], `[${bytes}]`);
    assert.equal(ws.closedWith.code, 4400, `[${bytes}]`);
    connection.close();
  }
});

test("a position that is not a non-empty string is ignored", async () => {
  connect();
  let ws = await fake.accept(A, { resume: "token-1", pos: "ep:5" });
  ws.receive({ t: "msg", data: 1, pos: 6 });
  ws.receive({ t: "msg", data: 2, pos: "" });
  ws.receive({ t: "msg", data: 3, pos: null });
  ws = await reconnect(ws, B, { resume: 42, pos: "ep:5" });
  assert.deepEqual(ws.frames[0], { t: "hello", recover: true, resume: "token-1", pos: "ep:5" });
  ws = await reconnect(ws, C);
  assert.deepEqual(ws.frames[0], { t: "hello", recover: true });
});
