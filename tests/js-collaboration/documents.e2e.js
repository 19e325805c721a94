// The document wire of the original framework (js-collaboration-features.md §3, message type "ot-doc"), driven frame by frame
// through socket.io-client as the original client configures it, against the real Realtime server's compatibility endpoint
// with `server.UseDocuments(...)`. Every request is `42["m",["ot-doc", {a: …}, compressed]]` and every answer is read back as
// that object (gunzipped when it came compressed). This file is its own small wire client: it sends what the original
// SharedDoc sends and checks what the doc says comes back; it does not run an OT client algorithm, so the expected
// documents are computed with ot-json0 from npm where a transform is involved.
//
// Run by the .NET test JsCollaborationNodeTests, whose server (besides what compat.e2e.js needs) registers documents with a
// submit middleware refusing an op that sets a value "forbidden" (Reject("Forbidden"): code 1000) or "silent"
// (Reject(19, "Op submit rejected")), and a readSnapshots middleware refusing every snapshot of a room whose id starts with
// "unreadable-" (Reject("Not readable"): code 11). The fault proxy (REALTIME_PROXY_ORIGIN) takes `@@control reset` (cut every
// proxied connection), `@@control blackhole-down` (swallow what the server sends, so acks are lost) and `@@control heal`.
import { test } from "node:test";
import assert from "node:assert/strict";
import json0 from "ot-json0";
import { connections, control, next, origin, proxyOrigin } from "./harness.js";
import { Connection, DisconnectReason } from "./seed-connection.js";
import { Client, SharedDoc, TypesManager } from "../../src/Client/realtime-client-js/src/realtime-client.js";

const TIMEOUT = 15000;
const URI = "http://sharejs.org/types/JSONv0";
const { type } = json0;

const { room, connect, closeAll, track } = connections(Connection, "doc-room");

/** Records a connection's ot-doc messages (objects) and lets a test take them in order. */
class Wire {
  /** @type {Array<Record<string, any>>} */
  received = [];
  #read = 0;
  #wake = () => {};
  #seq = 0;

  constructor(connection) {
    this.connection = connection;
    connection.on("message", (data, type, compressed) => {
      if (type !== "ot-doc") return;
      assert.equal(typeof data, "object", `ot-doc data must be an object, got ${JSON.stringify(data)}`);
      Object.defineProperty(data, "compressed", { value: compressed, enumerable: false });
      this.received.push(data);
      this.#wake();
    });
  }

  get id() { return this.connection.id; }

  send(request) { this.connection.send(request, "ot-doc"); }

  /** Sends an op message as SharedDoc does: the next seq, `x: {}`, and `src` only when given (a resend). */
  submit(fields) {
    const request = { a: 5, seq: fields.seq ?? ++this.#seq, ...fields, x: {} };
    this.send(request);
    return request;
  }

  /** The next ot-doc message not yet taken. */
  async take() {
    const deadline = Date.now() + TIMEOUT;
    while (this.#read >= this.received.length) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ot-doc message within 15 s; had ${JSON.stringify(this.received)}`);
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return this.received[this.#read++];
  }

  /** Takes the next message and asserts it deep-equals `expected` (key order does not matter). */
  async expect(expected, why) {
    const m = await this.take();
    assert.deepEqual(m, expected, why);
    return m;
  }

  /** Asserts that nothing arrived that was not taken, once the server has handled what `senders` and then this connection sent. */
  async nothingMore(...senders) {
    for (const wire of [...senders, this]) await echo(wire.connection);
    assert.deepEqual(this.received.slice(this.#read), []);
  }

  /** Forgets what was received and not taken (a connection's traffic before a drop). */
  skipAll() { this.#read = this.received.length; }

  /** Fetches the document and returns its snapshot. */
  async fetch() {
    this.send({ a: 0 });
    const reply = await this.take();
    assert.equal(reply.a, 0, JSON.stringify(reply));
    return reply.data;
  }
}

/** Sends an echo and waits for it: the server has handled everything this connection sent before (a barrier). */
async function echo(connection) {
  const token = Math.random().toString(36).slice(2);
  const back = next(connection, "message", (data, t) => t === "echo" && data === token);
  connection.send(token, "echo");
  await back;
}

const wire = async (roomId, url) => new Wire(await connect(roomId, url));

/** A new room with a json0 document created by `A` with `data` (version 1); returns A. */
async function created(data, roomId = room()) {
  const A = await wire(roomId);
  A.submit({ v: 0, create: { type: "json0", data } });
  await A.expect({ src: A.id, seq: 1, v: 0, a: 5 });
  return A;
}

/** Submits `op` at `v` and waits for its ack at `v`. */
async function commit(w, v, op) {
  const { seq } = w.submit({ v, op });
  await w.expect({ src: w.id, seq, v, a: 5 });
}

/** The error reply: the request sent back unchanged with `error: {code, message}`. */
async function refused(w, request, code, message) {
  const reply = await w.take();
  assert.deepEqual(reply, { ...request, error: { ...reply.error } }, "the request comes back unchanged");
  assert.equal(reply.error.code, code, JSON.stringify(reply));
  if (message !== undefined) assert.equal(reply.error.message, message);
  else assert.equal(typeof reply.error.message, "string");
  return reply;
}

test("fetch: a missing document is {id, v:0} without type and data; a create makes it version 1 with the type's URI", async (t) => {
  t.after(closeAll);
  const roomId = room();
  const A = await wire(roomId);
  A.send({ a: 0 });
  const missing = await A.expect({ a: 0, data: { id: roomId, v: 0 } });
  assert.equal("type" in missing.data || "data" in missing.data, false);
  A.submit({ v: 0, create: { type: "json0", data: { title: "hello", n: 1, list: [] } } });
  await A.expect({ src: A.id, seq: 1, v: 0, a: 5 }, "the create is applied at version 0; src is the connection id");
  A.send({ a: 0 });
  await A.expect({ a: 0, data: { id: roomId, v: 1, type: URI, data: { title: "hello", n: 1, list: [] } } });
  const B = await wire(roomId);
  assert.deepEqual(await B.fetch(), { id: roomId, v: 1, type: URI, data: { title: "hello", n: 1, list: [] } }, "documents outlive nothing but del: a new connection sees it");
});

test("a create may name its type by URI, and without v it is applied at the current version", async (t) => {
  t.after(closeAll);
  const A = await wire(room());
  A.submit({ create: { type: URI, data: { n: 0 } } });
  await A.expect({ src: A.id, seq: 1, v: 0, a: 5 });
  await commit(A, 1, [{ p: ["n"], na: 5 }]);
  A.submit({ op: [{ p: ["n"], na: 1 }] }); // no v: the current version (2)
  await A.expect({ src: A.id, seq: 3, v: 2, a: 5 });
  assert.deepEqual(await A.fetch(), { id: A.connection.roomId, v: 3, type: URI, data: { n: 6 } });
});

test("subscribe: the snapshot, then every op of the other connections (create, op, del), never the sender's own; a fetcher gets nothing pushed", async (t) => {
  t.after(closeAll);
  const roomId = room();
  const B = await wire(roomId);
  B.send({ a: 3 });
  await B.expect({ a: 3, data: { id: roomId, v: 0 } }, "subscribing needs no document");
  const F = await wire(roomId);
  assert.deepEqual(await F.fetch(), { id: roomId, v: 0 });
  const A = await wire(roomId);
  A.submit({ v: 0, create: { type: "json0", data: { n: 0 } } });
  await A.expect({ src: A.id, seq: 1, v: 0, a: 5 });
  await B.expect({ a: 5, v: 0, src: A.id, seq: 1, create: { type: URI, data: { n: 0 } } });
  await commit(A, 1, [{ p: ["n"], na: 2 }]);
  await B.expect({ a: 5, v: 1, src: A.id, seq: 2, op: [{ p: ["n"], na: 2 }] });
  A.submit({ v: 2, del: true });
  await A.expect({ src: A.id, seq: 3, v: 2, a: 5 });
  await B.expect({ a: 5, v: 2, src: A.id, seq: 3, del: true });
  await A.nothingMore(B);
  await F.nothingMore(A);
  assert.deepEqual(F.received.slice(1), [], "a connection that only fetched receives nothing pushed");
});

test("a subscriber's own ops come back only as acks; unsubscribe (a:4) has no reply and stops the stream", async (t) => {
  t.after(closeAll);
  const A = await created({ n: 0 });
  const roomId = A.connection.roomId;
  A.send({ a: 3 });
  await A.expect({ a: 3, data: { id: roomId, v: 1, type: URI, data: { n: 0 } } });
  const B = await wire(roomId);
  B.send({ a: 3 });
  await B.take();
  await commit(A, 1, [{ p: ["n"], na: 1 }]);
  await B.expect({ a: 5, v: 1, src: A.id, seq: 2, op: [{ p: ["n"], na: 1 }] });
  await A.nothingMore(B);
  B.send({ a: 4 });
  await echo(B.connection);
  await commit(A, 2, [{ p: ["n"], na: 1 }]);
  await B.nothingMore(A);
});

test("the concurrent pair of §3.6: both write at version 2, the later one is transformed (left) and goes first; everyone ends at version 4 with [b, a]", async (t) => {
  t.after(closeAll);
  const A = await created({ list: [] });
  const roomId = A.connection.roomId;
  await commit(A, 1, [{ p: ["title"], oi: "x" }]);
  const B = await wire(roomId);
  B.send({ a: 3 });
  await B.expect({ a: 3, data: { id: roomId, v: 2, type: URI, data: { list: [], title: "x" } } });
  A.send({ a: 3, v: 2 });
  await A.expect({ a: 3 });
  // A's op reaches the server first; B wrote its op at version 2 too, before A's broadcast reached it.
  A.submit({ v: 2, op: [{ p: ["list", 0], li: "a" }] });
  await B.expect({ a: 5, v: 2, src: A.id, seq: 3, op: [{ p: ["list", 0], li: "a" }] }, "broadcast of A's op");
  await A.expect({ src: A.id, seq: 3, v: 2, a: 5 }, "A's ack");
  B.submit({ v: 2, op: [{ p: ["list", 0], li: "b" }] });
  await A.expect({ a: 5, v: 3, src: B.id, seq: 1, op: [{ p: ["list", 0], li: "b" }] }, "broadcast of B's op (transformed: the later op goes first)");
  await B.expect({ a: 5, v: 2, src: A.id, seq: 3, op: [{ p: ["list", 0], li: "a" }] }, "step 10: what B's op was transformed against, though B had it as a broadcast");
  await B.expect({ src: B.id, seq: 1, v: 3, a: 5 }, "B's ack, at version 3");
  assert.deepEqual(await B.fetch(), { id: roomId, v: 4, type: URI, data: { list: ["b", "a"], title: "x" } });
  await A.nothingMore(B);
});

test("concurrent submits from two connections sent at once converge: the server's document is the later op transformed against the first", async (t) => {
  t.after(closeAll);
  const A = await created({ list: ["x"], s: "abc", n: 0 });
  const roomId = A.connection.roomId;
  const B = await wire(roomId);
  A.send({ a: 3 });
  B.send({ a: 3 });
  await A.take();
  await B.take();
  const opA = [{ p: ["list", 0], li: "a" }, { p: ["s", 1], si: "A" }, { p: ["n"], na: 1 }];
  const opB = [{ p: ["list", 0], ld: "x" }, { p: ["s", 1], si: "B" }, { p: ["n"], na: 10 }];
  A.submit({ v: 1, op: opA });
  B.submit({ v: 1, op: opB });
  // Each gets its own ack and the other's op (the later submitter gets the first op twice: as a broadcast and in step 10).
  const collect = async (w, other) => {
    const got = [];
    while (!(got.some((m) => m.src === w.id && !m.op) && got.some((m) => m.src === other.id && m.op))) got.push(await w.take());
    return got;
  };
  const fromA = await collect(A, B);
  const fromB = await collect(B, A);
  const ackA = fromA.find((m) => m.src === A.id);
  const ackB = fromB.find((m) => m.src === B.id);
  assert.deepEqual([ackA.v, ackB.v].sort(), [1, 2], JSON.stringify({ fromA, fromB }));
  const [first, second, firstOp, secondOp] = ackA.v === 1 ? [A, B, opA, opB] : [B, A, opB, opA];
  const transformed = type.transform(secondOp, firstOp, "left");
  const expected = type.apply(type.apply(structuredClone({ list: ["x"], s: "abc", n: 0 }), firstOp), transformed);
  assert.deepEqual(first.received.filter((m) => m.src === second.id && m.op).map((m) => m.op), [transformed], "the first submitter gets the second op transformed");
  assert.deepEqual(second.received.filter((m) => m.src === first.id && m.op).map((m) => [m.v, m.op]), [[1, firstOp], [1, firstOp]]);
  const secondWire = second;
  await echo(secondWire.connection);
  assert.deepEqual(await A.fetch(), { id: roomId, v: 3, type: URI, data: expected });
  // Each side, from what it received, reaches the same document: its own op then the other's op transformed against it.
  // The second submitter's client transforms the incoming first op against its in-flight op (the other side), and converges.
  const [mine, incoming] = type.transformX(secondOp, firstOp);
  assert.deepEqual(mine, transformed);
  assert.deepEqual(type.apply(type.apply(structuredClone({ list: ["x"], s: "abc", n: 0 }), secondOp), incoming), expected);
});

test("a resent op (same src and seq) is acknowledged once more with the version it was committed at, and applied once", async (t) => {
  t.after(closeAll);
  const A = await created({ n: 0 });
  const B = await wire(A.connection.roomId);
  B.send({ a: 3 });
  await B.take();
  const first = A.submit({ v: 1, op: [{ p: ["n"], na: 1 }] });
  await A.expect({ src: A.id, seq: 2, v: 1, a: 5 });
  await B.take();
  await commit(B, 2, [{ p: ["n"], na: 10 }]);
  A.send({ ...first, src: A.id });
  await A.expect({ src: A.id, seq: 2, v: 1, a: 5 }, "already submitted: the ack of the op committed at 1, without the ops after it");
  await A.nothingMore(B);
  await B.nothingMore(A);
  assert.deepEqual((await A.fetch()).data, { n: 11 });
});

test("a resent op found after another op is acknowledged without the ops before it, and a resent create without v is acknowledged", async (t) => {
  t.after(closeAll);
  const roomId = room();
  const A = await wire(roomId);
  const create = A.submit({ create: { type: "json0", data: { n: 0 } } });
  await A.expect({ src: A.id, seq: 1, v: 0, a: 5 });
  A.send({ ...create, src: A.id });
  await A.expect({ src: A.id, seq: 1, v: 0, a: 5 }, "a create without v on an existing document, committed with this src and seq");
  const B = await wire(roomId);
  await commit(B, 1, [{ p: ["n"], na: 10 }]);
  const mine = A.submit({ v: 2, op: [{ p: ["n"], na: 1 }] });
  await A.expect({ src: A.id, seq: 2, v: 2, a: 5 });
  A.send({ ...mine, v: 1, src: A.id }); // as if written at 1: B's op at 1 is passed over, then the duplicate is found at 2
  await A.expect({ src: A.id, seq: 2, v: 2, a: 5 });
  await A.nothingMore();
  assert.deepEqual((await A.fetch()).data, { n: 11 });
});

test("fetch and subscribe with v: every op since v, oldest first, then a reply without data; a subscribe from v then streams", async (t) => {
  t.after(closeAll);
  const A = await created({ n: 0 });
  const roomId = A.connection.roomId;
  for (let v = 1; v <= 3; v++) await commit(A, v, [{ p: ["n"], na: v }]);
  const B = await wire(roomId);
  B.send({ a: 0, v: 1 });
  for (let v = 1; v <= 3; v++) await B.expect({ a: 5, v, src: A.id, seq: v + 1, op: [{ p: ["n"], na: v }] });
  await B.expect({ a: 0 });
  B.send({ a: 0, v: 4 });
  await B.expect({ a: 0 }, "at the current version: nothing to send");
  B.send({ a: 0, v: 0 });
  await B.expect({ a: 5, v: 0, src: A.id, seq: 1, create: { type: URI, data: { n: 0 } } }, "from 0: the create too");
  for (let v = 1; v <= 3; v++) await B.take();
  await B.expect({ a: 0 });
  B.send({ a: 3, v: 2 });
  await B.expect({ a: 5, v: 2, src: A.id, seq: 3, op: [{ p: ["n"], na: 2 }] });
  await B.expect({ a: 5, v: 3, src: A.id, seq: 4, op: [{ p: ["n"], na: 3 }] });
  await B.expect({ a: 3 });
  await commit(A, 4, [{ p: ["n"], na: 4 }]);
  await B.expect({ a: 5, v: 4, src: A.id, seq: 5, op: [{ p: ["n"], na: 4 }] }, "subscribed");
});

test("fetchHistorySnapshot (a:2): the document as it was at v, the request id echoed, from any connection; beyond the version is 17, no v is 6", async (t) => {
  t.after(closeAll);
  const A = await created({ n: 0, list: [] });
  const roomId = A.connection.roomId;
  await commit(A, 1, [{ p: ["n"], na: 5 }]);
  await commit(A, 2, [{ p: ["list", 0], li: "x" }]);
  const B = await wire(roomId);
  B.send({ a: 2, id: "AFjIRnzW", v: 1 });
  await B.expect({ id: "AFjIRnzW", a: 2, data: { id: roomId, v: 1, type: URI, data: { n: 0, list: [] } } });
  B.send({ a: 2, id: "Bq3kP0aa", v: 2 });
  await B.expect({ id: "Bq3kP0aa", a: 2, data: { id: roomId, v: 2, type: URI, data: { n: 5, list: [] } } });
  B.send({ a: 2, id: "Cc000000", v: 3 });
  await B.expect({ id: "Cc000000", a: 2, data: { id: roomId, v: 3, type: URI, data: { n: 5, list: ["x"] } } }, "the current version");
  const beyond = { a: 2, id: "JUl56KZL", v: 10 };
  B.send(beyond);
  await refused(B, beyond, 17, "Requested version exceeds latest snapshot version");
  const noVersion = { a: 2, id: "Dd000000" };
  B.send(noVersion);
  await refused(B, noVersion, 6, "Invalid fetch history snapshot message");
});

test("del erases the document and its history: a fetch says version 0, history is gone, and a create starts again at 1", async (t) => {
  t.after(closeAll);
  const A = await created({ n: 0 });
  const roomId = A.connection.roomId;
  await commit(A, 1, [{ p: ["n"], na: 1 }]);
  const B = await wire(roomId);
  B.send({ a: 3 });
  await B.take();
  A.submit({ v: 2, del: true });
  await A.expect({ src: A.id, seq: 3, v: 2, a: 5 });
  await B.expect({ a: 5, v: 2, src: A.id, seq: 3, del: true });
  const C = await wire(roomId);
  assert.deepEqual(await C.fetch(), { id: roomId, v: 0 });
  const history = { a: 2, id: "Hh000000", v: 1 };
  C.send(history);
  await refused(C, history, 17, "Requested version exceeds latest snapshot version");
  C.send({ a: 0, v: 0 });
  await C.expect({ a: 0 }, "no ops are left");
  C.submit({ v: 0, create: { type: "json0", data: { again: true } } });
  await C.expect({ src: C.id, seq: 1, v: 0, a: 5 });
  await B.expect({ a: 5, v: 0, src: C.id, seq: 1, create: { type: URI, data: { again: true } } }, "the re-create is broadcast with v 0");
  assert.deepEqual(await C.fetch(), { id: roomId, v: 1, type: URI, data: { again: true } });
  const stale = A.submit({ v: 3, create: { type: "json0", data: {} } });
  await refused(A, stale, 17, "Invalid op submitted. Op version newer than current snapshot");
});

test("restore: the snapshot becomes the data given, the version goes up by one, history before it stays; subscribers get the restore", async (t) => {
  t.after(closeAll);
  const A = await created({ n: 0 });
  const roomId = A.connection.roomId;
  await commit(A, 1, [{ p: ["n"], na: 1 }]);
  await commit(A, 2, [{ p: ["n"], na: 1 }]);
  const B = await wire(roomId);
  B.send({ a: 3 });
  await B.take();
  A.send({ a: 2, id: "Rr000000", v: 2 });
  const { data: old } = await A.take();
  assert.deepEqual(old.data, { n: 1 });
  A.submit({ v: 3, restore: { v: 2, data: old.data } });
  await A.expect({ src: A.id, seq: 4, v: 3, a: 5 });
  await B.expect({ a: 5, v: 3, src: A.id, seq: 4, restore: { v: 2, data: { n: 1 } } });
  assert.deepEqual(await A.fetch(), { id: roomId, v: 4, type: URI, data: { n: 1 } });
  A.send({ a: 2, id: "Rr000001", v: 3 });
  await A.expect({ id: "Rr000001", a: 2, data: { id: roomId, v: 3, type: URI, data: { n: 2 } } }, "the history before the restore is kept");
  await commit(B, 4, [{ p: ["n"], na: 5 }]);
  assert.deepEqual((await A.fetch()).data, { n: 6 });
});

test("restore refusals: a target of 0, at or above the version, or not a number is 29; no data is 30", async (t) => {
  t.after(closeAll);
  const A = await created({ n: 0 });
  await commit(A, 1, [{ p: ["n"], na: 1 }]);
  for (const target of [0, -1, "1", null]) {
    const r = A.submit({ v: 2, restore: { v: target, data: { n: 0 } } });
    await refused(A, r, 29);
  }
  for (const target of [2, 3]) {
    const r = A.submit({ v: 2, restore: { v: target, data: { n: 0 } } });
    await refused(A, r, 29, `Target version ${target} is invalid. Current version is 2`);
  }
  const noData = A.submit({ v: 2, restore: { v: 1 } });
  await refused(A, noData, 30);
  assert.deepEqual((await A.fetch()).data, { n: 1 }, "nothing was committed");
});

test("error codes of a create and an op: 0 already created, 0 created remotely, 1 does not exist, 2 unknown type, 17 newer version", async (t) => {
  t.after(closeAll);
  const roomId = room();
  const A = await wire(roomId);
  const op = A.submit({ v: 0, op: [{ p: ["n"], na: 1 }] });
  await refused(A, op, 1, "Document does not exist");
  const del = A.submit({ v: 0, del: true });
  await refused(A, del, 1, "Document does not exist");
  const unknown = A.submit({ v: 0, create: { type: "no-such-type", data: {} } });
  await refused(A, unknown, 2, "Unknown type");
  A.submit({ v: 0, create: { type: "json0", data: { n: 0 } } });
  await A.take();
  const again = A.submit({ v: 1, create: { type: "json0", data: {} } });
  await refused(A, again, 0, "Invalid op submitted. Document already created");
  const B = await wire(roomId);
  const noV = B.submit({ create: { type: "json0", data: {} } });
  await refused(B, noV, 0, "Invalid op submitted. Document already created");
  const remote = B.submit({ v: 0, create: { type: "json0", data: {} } });
  await refused(B, remote, 0, "Document was created remotely");
  const opAtZero = B.submit({ v: 0, op: [{ p: ["n"], na: 1 }] });
  await refused(B, opAtZero, 0, "Document was created remotely");
  const newer = B.submit({ v: 5, op: [{ p: ["n"], na: 1 }] });
  await refused(B, newer, 17, "Invalid op submitted. Op version newer than current snapshot");
  assert.deepEqual(await B.fetch(), { id: roomId, v: 1, type: URI, data: { n: 0 } }, "nothing was committed");
});

test("error codes of a badly formed request: 6 invalid version, no op, unknown action and fetchOps; 15 badly formed create, del, src/seq; 14 seq overflow", async (t) => {
  t.after(closeAll);
  const A = await created({ n: 0 });
  const cases = [
    [{ a: 5, seq: 2, v: -1, x: {}, op: [] }, 6, "Invalid version"],
    [{ a: 5, seq: 2, v: "1", x: {}, op: [] }, 6, "Invalid version"],
    [{ a: 5, seq: 2, v: 1, x: {} }, 6, "Invalid op message"],
    [{ a: 9 }, 6, "Invalid or unknown message"],
    [{ a: 1, from: 0 }, 6, "Invalid or unknown message"],
    [{ a: 5, seq: 2, v: 1, x: {}, create: { data: {} } }, 15],
    [{ a: 5, seq: 2, v: 1, x: {}, create: "json0" }, 15],
    [{ a: 5, seq: 2, v: 1, x: {}, del: "yes" }, 15],
    [{ a: 5, src: 7, seq: 2, v: 1, x: {}, op: [] }, 15],
    [{ a: 5, src: A.id, v: 1, x: {}, op: [] }, 15],
    [{ a: 5, seq: 9007199254740991, v: 1, x: {}, op: [] }, 14],
  ];
  for (const [request, code, message] of cases) {
    A.send(request);
    await refused(A, request, code, message);
  }
  assert.equal(A.connection.connected, true, "error replies leave the connection up");
  assert.deepEqual((await A.fetch()).v, 1);
});

test("error codes of applying and transforming: 9 apply failed (the type's message), 10 transform failed, 32 restored concurrently", async (t) => {
  t.after(closeAll);
  const A = await created({ title: 0, s: "abc", n: 0 });
  const apply = A.submit({ v: 1, op: [{ p: ["title", 0], si: "x" }] });
  const applyError = await refused(A, apply, 9);
  assert.notEqual(applyError.error.message, "");
  await commit(A, 1, [{ p: ["s", 0], si: "a" }]);
  const transform = A.submit({ v: 1, op: [{ p: ["s", 0], si: 5 }] }); // ot-json0 throws on this component against the committed insert
  const transformError = await refused(A, transform, 10);
  assert.match(transformError.error.message, /^Op transform failed/, "the doc's text (our server adds the type's reason after it)");
  A.send({ a: 2, id: "Rs000000", v: 1 });
  const { data: old } = await A.take();
  A.submit({ v: 2, restore: { v: 1, data: old.data } });
  await A.take();
  const late = A.submit({ v: 2, op: [{ p: ["n"], na: 1 }] });
  await refused(A, late, 32, "Document was restored, please refetch");
  assert.deepEqual((await A.fetch()).data, { title: 0, s: "abc", n: 0 });
});

test("middleware refusals: Reject(message) is code 1000 with the message; Reject(19, …) is 19; nothing is committed or broadcast", async (t) => {
  t.after(closeAll);
  const A = await created({ s: "ok" });
  const B = await wire(A.connection.roomId);
  B.send({ a: 3 });
  await B.take();
  const forbidden = A.submit({ v: 1, op: [{ p: ["s"], od: "ok", oi: "forbidden" }] });
  await refused(A, forbidden, 1000, "Forbidden");
  const silent = A.submit({ v: 1, op: [{ p: ["s"], od: "ok", oi: "silent" }] });
  await refused(A, silent, 19, "Op submit rejected");
  await commit(A, 1, [{ p: ["s"], od: "ok", oi: "fine" }]);
  await B.expect({ a: 5, v: 1, src: A.id, seq: 4, op: [{ p: ["s"], od: "ok", oi: "fine" }] }, "only the accepted op is broadcast");
  await B.nothingMore(A);
  assert.deepEqual(await A.fetch(), { id: A.connection.roomId, v: 2, type: URI, data: { s: "fine" } });
});

test("readSnapshots middleware refusals are code 11 for fetch and subscribe; ops still commit", async (t) => {
  t.after(closeAll);
  const roomId = room("unreadable");
  const A = await wire(roomId);
  for (const request of [{ a: 0 }, { a: 3 }]) {
    A.send(request);
    await refused(A, request, 11, "Not readable");
  }
  A.submit({ v: 0, create: { type: "json0", data: { n: 0 } } });
  await A.expect({ src: A.id, seq: 1, v: 0, a: 5 });
});

test("a message whose data is not an object closes the connection (SERVER_DISCONNECT); the room's others stay", async (t) => {
  t.after(closeAll);
  const A = await created({ n: 0 });
  const B = await wire(A.connection.roomId);
  const gone = next(B.connection, "disconnect");
  B.connection.send("not an object", "ot-doc");
  assert.equal((await gone)[0], DisconnectReason.SERVER_DISCONNECT);
  await commit(A, 1, [{ p: ["n"], na: 1 }]);
});

test("large snapshots and ops travel gzip + base64 both ways and decode to the same objects", async (t) => {
  t.after(closeAll);
  const big = { text: "a long paragraph ".repeat(40), list: Array.from({ length: 30 }, (_, i) => i) };
  const A = await created(big);
  const B = await wire(A.connection.roomId);
  B.send({ a: 3 });
  const snapshot = await B.take();
  assert.equal(snapshot.compressed, true);
  assert.deepEqual(snapshot.data.data, big);
  const op = [{ p: ["more"], oi: "x".repeat(300) }];
  await commit(A, 1, op);
  const pushed = await B.take();
  assert.equal(pushed.compressed, true);
  assert.deepEqual(pushed.op, op);
});

test("reconnect after a lost ack (§3.10): the resend with src and the re-subscribe from v bring the op back once", async (t) => {
  t.after(closeAll);
  const roomId = room();
  const S = await created({ n: 0 }, roomId);
  S.send({ a: 3 });
  await S.take();
  const A = await wire(roomId, proxyOrigin);
  A.send({ a: 3 });
  await A.expect({ a: 3, data: { id: roomId, v: 1, type: URI, data: { n: 0 } } });
  const id = A.id;
  await control("blackhole-down"); // what the server sends A is lost from now on: the ack will be
  const op = A.submit({ v: 1, op: [{ p: ["n"], na: 1 }] });
  await S.expect({ a: 5, v: 1, src: id, seq: 1, op: [{ p: ["n"], na: 1 }] }, "committed");
  const reconnected = next(A.connection, "connect");
  await control("heal"); // before the reset, so that the reconnection gets through; what was swallowed stays lost
  await control("reset");
  await reconnected;
  assert.equal(A.id, id, "the original client keeps its id");
  A.skipAll();
  A.send({ ...op, src: id });
  A.send({ a: 3, v: 1 });
  const got = [await A.take(), await A.take(), await A.take()];
  // The submit runs through the document's queue and the subscribe does not: their answers may come in either order.
  const expected = [{ a: 5, v: 1, src: id, seq: 1, op: [{ p: ["n"], na: 1 }] }, { a: 3 }, { src: id, seq: 1, v: 1, a: 5 }];
  const key = (m) => JSON.stringify(Object.entries(m).sort());
  assert.deepEqual(got.map(key).sort(), expected.map(key).sort());
  assert.ok(got.findIndex((m) => m.op) < got.findIndex((m) => m.a === 3 && !m.op && !m.src), "the missed op comes before the subscribe reply");
  await S.nothingMore(A);
  assert.deepEqual((await S.fetch()).data, { n: 1 }, "applied once");
});

test("reconnect with a queued op: an op made offline is sent after the reconnection with src, transformed against what was committed meanwhile", async (t) => {
  t.after(closeAll);
  const roomId = room();
  const S = await created({ list: [] }, roomId);
  const A = await wire(roomId, proxyOrigin);
  assert.deepEqual((await A.fetch()).v, 1);
  const id = A.id;
  await commit(S, 1, [{ p: ["list", 0], li: "s" }]); // A fetched only: it does not hear of this op
  const dropped = next(A.connection, "disconnect");
  const reconnected = next(A.connection, "connect");
  await control("reset");
  await dropped;
  // Offline: the op waits in the socket's buffer and goes out after the reconnection, with src as a resend has it.
  A.submit({ src: id, v: 1, op: [{ p: ["list", 0], li: "a" }] });
  await reconnected;
  await A.expect({ a: 5, v: 1, src: S.id, seq: 2, op: [{ p: ["list", 0], li: "s" }] }, "what it was transformed against");
  await A.expect({ src: id, seq: 1, v: 2, a: 5 });
  assert.deepEqual((await S.fetch()).data, { list: ["a", "s"] }, "the later op (A's) goes first in a tie");
});

test("a mixed room: Realtime's own client (SharedDoc over protocol v1) and the original's wire edit one document at once and converge", async (t) => {
  t.after(closeAll);
  const roomId = room();
  const W = await created({ list: [], n: 0 }, roomId);
  TypesManager.register(type);
  const v1 = new Client(origin).connect(roomId);
  track(v1);
  const doc = new SharedDoc(v1);
  await doc.subscribe();
  assert.deepEqual([doc.version, doc.data], [1, { list: [], n: 0 }]);
  const mine = [];
  for (let i = 0; i < 10; i++) {
    mine.push(doc.submitOp([{ p: ["list", 0], li: `d${i}` }, { p: ["n"], na: 1 }]));
    W.submit({ v: 1, op: [{ p: ["list", 0], li: `w${i}` }, { p: ["n"], na: 10 }] }); // all written at 1: the server transforms each
  }
  await Promise.all(mine);
  for (let acks = 0; acks < 10;) if (!(await W.take()).op) acks++;
  const server = await W.fetch();
  assert.equal(server.data.n, 110);
  assert.equal(server.data.list.length, 20);
  // The page's client catches up with the server's version from the ops it is sent (the version moves after the op event).
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the document stayed at version ${doc.version}, the server is at ${server.v}`)), TIMEOUT);
    const check = () => {
      if (doc.version !== server.v) return;
      clearTimeout(timer);
      doc.off("op", later);
      resolve();
    };
    const later = () => queueMicrotask(check);
    doc.on("op", later);
    check();
  });
  assert.deepEqual(doc.data, server.data);
  doc.destroy();
});
