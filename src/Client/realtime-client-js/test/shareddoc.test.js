import { test, mock, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import json0 from "ot-json0";
import text from "ot-text-unicode";
import { Client, OTError, SharedDoc, TypesManager } from "../src/realtime-client.js";
import { fakeWebSocket, settle } from "./fake-websocket.js";

const A = "A".repeat(20);
const A2 = "a".repeat(20);
const B = "B".repeat(20);
const URI = "http://sharejs.org/types/JSONv0";
TypesManager.register(json0.type);
TypesManager.register(text.type);

let fake;
beforeEach(() => {
  fake = fakeWebSocket();
  mock.timers.enable({ apis: ["setTimeout", "Date"] });
});
afterEach(() => mock.timers.reset());

const connect = () => new Client("http://localhost:5000", { WebSocket: fake.WebSocket, randomizationFactor: 0 }).connect("room1");

/** The ot-doc requests a socket carried (objects, as sent). */
const requests = (ws) => ws.frames.filter((f) => f.t === "msg" && f.type === "ot-doc").map((f) => f.data);
/** Plays the server: an ot-doc message. */
const serve = (ws, data) => ws.receive({ t: "msg", type: "ot-doc", data });

/** Records every event of a document as [name, ...arguments]. */
function record(doc) {
  const events = [];
  for (const name of ["beforeOp", "op", "create", "del", "load", "error", "hardRollback", "restore"]) doc.on(name, (...args) => events.push([name, ...args.map((a) => (a instanceof Error ? `${a.code} ${a.message}` : a))]));
  return events;
}

/** A connected document loaded (subscribed) at version `v` with `data`. */
async function loaded(data = { list: [] }, v = 1, type = URI, missing = false) {
  const connection = connect();
  const doc = new SharedDoc(connection);
  const ws = await fake.accept(A);
  const done = doc.subscribe();
  serve(ws, { a: 3, data: missing ? { id: "room1", v: 0 } : { id: "room1", v, type, data } });
  await done;
  return { connection, doc, ws, sent: () => requests(ws).slice(1) };
}

test("fetch without a version loads the snapshot; a missing document is version 0 without type or data; load is raised", async () => {
  const connection = connect();
  const doc = new SharedDoc(connection);
  const events = record(doc);
  assert.equal(doc.id, "room1");
  assert.equal(doc.connection, connection);
  const fetched = doc.fetch(); // before the connection is up: sent once it is
  const ws = await fake.accept(A);
  assert.deepEqual(requests(ws), [{ a: 0 }]);
  serve(ws, { a: 0, data: { id: "room1", v: 0 } });
  await fetched;
  assert.equal(doc.version, 0);
  assert.equal(doc.type, undefined);
  assert.equal(doc.data, undefined);
  assert.deepEqual(events, [["load"]]);
  const again = doc.fetch();
  assert.deepEqual(requests(ws)[1], { a: 0, v: 0 }, "loaded: a fetch asks for the ops since its version");
  serve(ws, { a: 5, v: 0, src: B, seq: 1, create: { type: URI, data: { n: 1 } } });
  serve(ws, { a: 0 });
  await again;
  assert.deepEqual([doc.version, doc.type, doc.data], [1, json0.type, { n: 1 }]);
  assert.deepEqual(events.at(-1), ["create", false]);
});

test("create sends {type, data} without v before loading; the ack sets the version; types resolve by name and URI", async () => {
  const connection = connect();
  const doc = new SharedDoc(connection);
  const events = record(doc);
  const ws = await fake.accept(A);
  const created = doc.create({ n: 0 }, "json0");
  assert.deepEqual(doc.data, { n: 0 });
  assert.equal(doc.type, json0.type);
  assert.deepEqual(requests(ws), [{ a: 5, seq: 1, x: {}, create: { type: "json0", data: { n: 0 } } }]);
  serve(ws, { src: A, seq: 1, v: 0, a: 5 });
  await created;
  assert.equal(doc.version, 1);
  assert.deepEqual(events, [["create", true]]);
  await assert.rejects(doc.create({}, URI), (e) => e instanceof OTError && e.code === 4016);
  assert.equal(TypesManager.get(URI), json0.type);
  assert.equal(TypesManager.get("text-unicode"), text.type);
});

test("one op in flight: the ops submitted meanwhile are composed into one, sent after the ack with the next seq", async () => {
  const { doc, ws, sent } = await loaded({ n: 0, list: [] }, 3);
  const events = record(doc);
  const first = doc.submitOp([{ p: ["n"], na: 1 }]);
  const second = doc.submitOp([{ p: ["list", 0], li: "x" }], { source: "mine" });
  const third = doc.submitOp([{ p: ["n"], na: 2 }]);
  assert.deepEqual(doc.data, { n: 3, list: ["x"] }, "applied at once");
  assert.deepEqual(sent(), [{ a: 5, v: 3, seq: 1, x: {}, op: [{ p: ["n"], na: 1 }] }]);
  serve(ws, { src: A, seq: 1, v: 3, a: 5 });
  await first;
  assert.equal(doc.version, 4);
  assert.deepEqual(sent()[1], { a: 5, v: 4, seq: 2, x: {}, op: [{ p: ["list", 0], li: "x" }, { p: ["n"], na: 2 }] });
  serve(ws, { src: A, seq: 2, v: 4, a: 5 });
  await Promise.all([second, third]);
  assert.equal(doc.version, 5);
  assert.deepEqual(events.filter((e) => e[0] === "op"), [
    ["op", [{ p: ["n"], na: 1 }], true],
    ["op", [{ p: ["list", 0], li: "x" }], "mine"],
    ["op", [{ p: ["n"], na: 2 }], true],
  ]);
});

test("an incoming op is transformed against the op in flight and the queued one, and the document converges with the server's", async () => {
  const { doc, ws, sent } = await loaded({ list: ["x"] }, 2);
  const events = record(doc);
  const s0 = { list: ["x"] };
  const mine1 = [{ p: ["list", 0], li: "a" }];
  const mine2 = [{ p: ["list", 2], li: "c" }];
  doc.submitOp(mine1);
  doc.submitOp(mine2);
  const theirs = [{ p: ["list", 0], li: "b" }];
  serve(ws, { a: 5, v: 2, src: B, seq: 7, op: theirs });
  assert.equal(doc.version, 3);
  // The server: theirs first, then mine (sent at 2, so transformed against theirs with "left"), then the composed rest.
  const { type } = json0;
  const serverMine1 = type.transform(mine1, theirs, "left");
  const expected = type.apply(type.apply(structuredClone(s0), theirs), serverMine1);
  serve(ws, { src: A, seq: 1, v: 3, a: 5 });
  await settle();
  assert.equal(doc.version, 4);
  const next = sent()[1];
  assert.equal(next.v, 4);
  assert.deepEqual(type.apply(expected, next.op), doc.data, "what is sent next is the rest, transformed to apply on the server's document");
  assert.deepEqual(doc.data, { list: ["a", "b", "x", "c"] }, "the later op (mine, at the server) goes first in a tie");
  assert.deepEqual(events.filter((e) => e[0] === "op" && e[2] === false).length, 1);
  serve(ws, { a: 5, v: 2, src: B, seq: 7, op: theirs }); // a duplicate (v lower than the version): ignored
  assert.deepEqual(doc.data, { list: ["a", "b", "x", "c"] });
});

test("a type without transformX (ot-text-unicode) is transformed with transform on both sides", async () => {
  const { doc, ws } = await loaded("hello", 1, text.type.uri);
  assert.equal(doc.type, text.type);
  doc.submitOp([5, " world"]);
  serve(ws, { a: 5, v: 1, src: B, seq: 1, op: ["> "] });
  assert.equal(doc.data, "> hello world");
  serve(ws, { src: A, seq: 1, v: 2, a: 5 });
  assert.equal(doc.version, 3);
});

test("a refused op is rolled back by its inverse, transformed past the queued ops: the promise rejects and error is raised", async () => {
  const { doc, ws, sent } = await loaded({ s: "ok", list: [] }, 1);
  const events = record(doc);
  const refused = doc.submitOp([{ p: ["s"], od: "ok", oi: "forbidden" }]);
  const queued = doc.submitOp([{ p: ["list", 0], li: 1 }]);
  serve(ws, { ...sent()[0], error: { code: 1000, message: "Forbidden" } });
  await assert.rejects(refused, (e) => e instanceof OTError && e.code === 1000 && e.message === "Forbidden");
  assert.deepEqual(doc.data, { s: "ok", list: [1] });
  assert.equal(doc.version, 1);
  assert.deepEqual(events.slice(-3), [
    ["beforeOp", [{ p: ["s"], od: "forbidden", oi: "ok" }], false],
    ["op", [{ p: ["s"], od: "forbidden", oi: "ok" }], false],
    ["error", "1000 Forbidden"],
  ]);
  assert.deepEqual(sent()[1], { a: 5, v: 1, seq: 2, x: {}, op: [{ p: ["list", 0], li: 1 }] }, "the queued op goes next");
  serve(ws, { src: A, seq: 2, v: 1, a: 5 });
  await queued;
});

test("code 19 rolls back silently: the promise resolves, the inverse op has source false, and no error is raised", async () => {
  const { doc, ws, sent } = await loaded({ s: "ok" }, 1);
  const events = record(doc);
  const silent = doc.submitOp([{ p: ["s"], od: "ok", oi: "silent" }]);
  serve(ws, { ...sent()[0], error: { code: 19, message: "Op submit rejected" } });
  await silent;
  assert.deepEqual(doc.data, { s: "ok" });
  assert.deepEqual(events.map((e) => e[0]), ["beforeOp", "op", "beforeOp", "op"]);
  assert.equal(events.at(-1)[2], false);
});

test("reconnect: the op in flight is resent with its src and seq, then the subscribe from the version; its echo from the subscribe is its ack", async () => {
  const { connection, doc, ws } = await loaded({ n: 0 }, 1);
  const lost = doc.submitOp([{ p: ["n"], na: 1 }]);
  ws.serverClose(1006);
  const offline = doc.submitOp([{ p: ["n"], na: 2 }]);
  doc.submitOp([{ p: ["n"], na: 3 }]);
  mock.timers.tick(1000);
  const ws2 = await fake.accept(A2); // protocol v1: a new connection id
  assert.equal(connection.id, A2);
  assert.deepEqual(requests(ws2), [
    { a: 5, v: 1, src: A, seq: 1, x: {}, op: [{ p: ["n"], na: 1 }] },
    { a: 3, v: 1 },
  ]);
  serve(ws2, { a: 5, v: 1, src: A, seq: 1, op: [{ p: ["n"], na: 1 }] }); // committed before the drop: it comes back from the subscribe
  await lost;
  serve(ws2, { a: 3 });
  assert.equal(doc.version, 2);
  assert.equal(doc.subscribed, true);
  assert.deepEqual(requests(ws2)[2], { a: 5, v: 2, seq: 2, x: {}, op: [{ p: ["n"], na: 5 }] }, "the offline ops, composed, under the new id");
  serve(ws2, { src: A, seq: 1, v: 1, a: 5 }); // the resend's own ack (already submitted): ignored
  serve(ws2, { src: A2, seq: 2, v: 2, a: 5 });
  await offline;
  assert.deepEqual([doc.version, doc.data], [3, { n: 6 }]);
});

test("a gap (an op above the version) makes it fetch the ops since its version", async () => {
  const { doc, ws, sent } = await loaded({ n: 0 }, 1);
  serve(ws, { a: 5, v: 2, src: B, seq: 2, op: [{ p: ["n"], na: 2 }] });
  assert.deepEqual(sent(), [{ a: 0, v: 1 }]);
  serve(ws, { a: 5, v: 1, src: B, seq: 1, op: [{ p: ["n"], na: 1 }] });
  serve(ws, { a: 5, v: 2, src: B, seq: 2, op: [{ p: ["n"], na: 2 }] });
  serve(ws, { a: 0 });
  assert.deepEqual([doc.version, doc.data], [3, { n: 3 }]);
});

test("fetchHistorySnapshot sends {a:2, id, v} and resolves with the snapshot of the reply with that id; it is resent after a reconnection", async () => {
  const { doc, ws, sent } = await loaded({ n: 5 }, 3);
  const h1 = doc.fetchHistorySnapshot({ version: 1 });
  const h2 = doc.fetchHistorySnapshot({ version: 9 });
  const [r1, r2] = sent();
  assert.equal(r1.a, 2);
  assert.match(r1.id, /^[0-9a-z]{8}$/);
  assert.equal(r1.v, 1);
  serve(ws, { ...r2, error: { code: 17, message: "Requested version exceeds latest snapshot version" } });
  await assert.rejects(h2, (e) => e.code === 17);
  ws.serverClose(1006);
  mock.timers.tick(1000);
  const ws2 = await fake.accept(A2);
  assert.deepEqual(requests(ws2), [{ a: 3, v: 3 }, { a: 2, id: r1.id, v: 1 }]);
  serve(ws2, { id: r1.id, a: 2, data: { id: "room1", v: 1, type: URI, data: { n: 0 } } });
  assert.deepEqual(await h1, { id: "room1", v: 1, type: URI, data: { n: 0 } });
});

test("restore fetches the history snapshot, applies it, raises restore, and submits {v, data}; a remote restore is applied too", async () => {
  const { doc, ws, sent } = await loaded({ n: 5 }, 3);
  const events = record(doc);
  const restored = doc.restore(2);
  const [history] = sent();
  serve(ws, { id: history.id, a: 2, data: { id: "room1", v: 2, type: URI, data: { n: 1 } } });
  await settle();
  assert.deepEqual(doc.data, { n: 1 });
  assert.deepEqual(sent()[1], { a: 5, v: 3, seq: 1, x: {}, restore: { v: 2, data: { n: 1 } } });
  serve(ws, { src: A, seq: 1, v: 3, a: 5 });
  await restored;
  assert.equal(doc.version, 4);
  serve(ws, { a: 5, v: 4, src: B, seq: 3, restore: { v: 1, data: { n: 0 } } });
  assert.deepEqual([doc.version, doc.data], [5, { n: 0 }]);
  assert.deepEqual(events, [["restore", 2, true], ["restore", 1, false]]);
});

test("del: local and remote, with the data as it was; the version moves on as the original's does", async () => {
  const { doc, ws, sent } = await loaded({ n: 5 }, 3);
  const events = record(doc);
  const deleted = doc.del();
  assert.deepEqual([doc.type, doc.data], [undefined, undefined]);
  assert.deepEqual(sent(), [{ a: 5, v: 3, seq: 1, x: {}, del: true }]);
  serve(ws, { src: A, seq: 1, v: 3, a: 5 });
  await deleted;
  assert.equal(doc.version, 4);
  await assert.rejects(doc.submitOp([]), (e) => e.code === 4015);
  serve(ws, { a: 5, v: 4, src: B, seq: 1, create: { type: URI, data: { again: 1 } } });
  assert.deepEqual(doc.data, { again: 1 });
  serve(ws, { a: 5, v: 5, src: B, seq: 2, del: true });
  assert.deepEqual(events, [["del", { n: 5 }, true], ["create", false], ["del", { again: 1 }, false]]);
});

test("a create refused stays local (no invert for a create) and raises error; hardRollback drops local changes and loads again", async () => {
  const { doc, ws, sent } = await loaded(undefined, 0, undefined, true);
  const events = record(doc);
  const created = doc.create({ mine: true });
  serve(ws, { ...sent()[0], error: { code: 0, message: "Document was created remotely" } });
  await assert.rejects(created, (e) => e.code === 0);
  assert.deepEqual(doc.data, { mine: true });
  const pending = doc.submitOp([{ p: ["x"], oi: 1 }]);
  const rolled = doc.hardRollback();
  await assert.rejects(pending, (e) => e.code === 4017);
  assert.deepEqual([doc.version, doc.type, doc.data], [undefined, undefined, undefined]);
  assert.deepEqual(sent().at(-1), { a: 3 }, "subscribed: it subscribes again without a version");
  serve(ws, { a: 3, data: { id: "room1", v: 1, type: URI, data: { theirs: true } } });
  await rolled;
  assert.deepEqual([doc.version, doc.data], [1, { theirs: true }]);
  assert.deepEqual(events.map((e) => e[0]), ["create", "error", "beforeOp", "op", "hardRollback", "load"]);
});

test("a remote create against a local create in flight starts again from the server", async () => {
  const { doc, ws } = await loaded(undefined, 0, undefined, true);
  const created = doc.create({ mine: true });
  serve(ws, { a: 5, v: 0, src: B, seq: 1, create: { type: URI, data: { theirs: true } } });
  await assert.rejects(created, (e) => e.code === 4017);
  serve(ws, { a: 3, data: { id: "room1", v: 1, type: URI, data: { theirs: true } } });
  await settle();
  assert.deepEqual(doc.data, { theirs: true });
});

test("errors of fetch and subscribe reject and raise error; unknown types in a snapshot raise error", async () => {
  const connection = connect();
  const doc = new SharedDoc(connection);
  const events = record(doc);
  const ws = await fake.accept(A);
  const fetched = doc.fetch();
  serve(ws, { a: 0, error: { code: 11, message: "Not readable" } });
  await assert.rejects(fetched, (e) => e.code === 11);
  const again = doc.fetch();
  serve(ws, { a: 0, data: { id: "room1", v: 1, type: "nope", data: {} } });
  await again;
  assert.deepEqual(events.map((e) => e[0]), ["error", "error", "load"]);
});

test("destroy unsubscribes, rejects what waits, and stops listening", async () => {
  const { doc, ws, sent } = await loaded({ n: 0 }, 1);
  const waiting = doc.fetchHistorySnapshot({ version: 1 });
  doc.destroy();
  await assert.rejects(waiting, (e) => e.code === 4018);
  assert.deepEqual(sent().at(-1), { a: 4 });
  serve(ws, { a: 5, v: 1, src: B, seq: 1, op: [{ p: ["n"], na: 1 }] });
  assert.deepEqual(doc.data, { n: 0 });
  await assert.rejects(doc.fetch(), (e) => e.code === 4018);
  assert.throws(() => doc.on("change", () => {}), TypeError);
});

test("a local del or restore waiting for its ack dominates a remote change: the remote one is dropped, the version moves on", async () => {
  const { doc, ws } = await loaded({ n: 0 }, 2);
  const events = record(doc);
  doc.del();
  serve(ws, { a: 5, v: 2, src: B, seq: 1, op: [{ p: ["n"], na: 1 }] });
  serve(ws, { a: 5, v: 3, src: B, seq: 2, del: true });
  assert.deepEqual([doc.version, doc.data], [4, undefined]);
  assert.deepEqual(events, [["del", { n: 0 }, true]]);
});

test("two documents on one connection number their ops from one counter, so the server does not take one's op for a resend of the other's", async () => {
  const { connection, doc, ws, sent } = await loaded({ n: 0 }, 1);
  const other = new SharedDoc(connection);
  const loading = other.fetch();
  serve(ws, { a: 0, data: { id: "room1", v: 1, type: URI, data: { n: 0 } } });
  await loading;
  const first = doc.submitOp([{ p: ["n"], na: 1 }]);
  const second = other.submitOp([{ p: ["n"], na: 2 }]);
  assert.deepEqual(sent().slice(1).map((r) => r.seq), [1, 2]);
  serve(ws, { src: A, seq: 1, v: 1, a: 5 });
  await first;
  serve(ws, { src: A, seq: 2, v: 2, a: 5 });
  await second;
  assert.equal(other.version, 3);
  other.destroy();
});

test("a local op the type cannot apply (half applied, in place) rejects with code 9, raises error and loads the server's document again", async () => {
  const { doc, ws, sent } = await loaded({ n: 0, s: "x", list: [] }, 2);
  const events = record(doc);
  const inflight = doc.submitOp([{ p: ["list", 0], li: 1 }]);
  const broken = doc.submitOp([{ p: ["n"], na: 1 }, { p: ["s"], na: 1 }]);
  await assert.rejects(broken, (e) => e instanceof OTError && e.code === 9 && e.message === "Referenced element not a number");
  await assert.rejects(inflight, (e) => e.code === 9, "what waited for its ack is dropped with it");
  assert.deepEqual([doc.version, doc.type, doc.data], [undefined, undefined, undefined], "the half-changed data is dropped");
  assert.deepEqual(sent(), [{ a: 5, v: 2, seq: 1, x: {}, op: [{ p: ["list", 0], li: 1 }] }, { a: 3 }], "the op is not sent; it subscribes again");
  serve(ws, { src: A, seq: 1, v: 2, a: 5 });
  serve(ws, { a: 3, data: { id: "room1", v: 3, type: URI, data: { n: 0, s: "x", list: [1] } } });
  await settle();
  assert.deepEqual([doc.version, doc.data], [3, { n: 0, s: "x", list: [1] }]);
  assert.deepEqual(events.slice(2), [
    ["beforeOp", [{ p: ["n"], na: 1 }, { p: ["s"], na: 1 }], true],
    ["hardRollback", "9 Referenced element not a number"],
    ["error", "9 Referenced element not a number"],
    ["load"],
  ]);
});

test("a remote op that cannot be applied does not throw out of the listener: a hard rollback with code 9 loads the document again", async () => {
  const { doc, ws, sent } = await loaded({ n: 0, s: "x" }, 2);
  const events = record(doc);
  const mine = doc.submitOp([{ p: ["n"], na: 1 }]);
  serve(ws, { a: 5, v: 2, src: B, seq: 1, op: [{ p: ["n"], na: 2 }, { p: ["s"], na: 1 }] });
  await assert.rejects(mine, (e) => e.code === 9);
  assert.deepEqual([doc.version, doc.data], [undefined, undefined]);
  assert.deepEqual(sent().at(-1), { a: 3 });
  assert.deepEqual(events.slice(-2), [["hardRollback", "9 Referenced element not a number"], ["error", "9 Referenced element not a number"]]);
  serve(ws, { a: 3, data: { id: "room1", v: 4, type: URI, data: { n: 3, s: "x" } } });
  await settle();
  assert.deepEqual([doc.version, doc.data], [4, { n: 3, s: "x" }]);
});

test("a failed transform (code 10) or a rollback inverse that cannot be applied also does a hard rollback", async () => {
  const fragile = {
    name: "fragile",
    uri: "http://example.com/fragile",
    create: (d) => d ?? "",
    apply: (s, op) => { if (op === "!") throw new Error("cannot apply"); return s + op; },
    transform: (op, other) => { if (other === "?") throw new Error("cannot transform"); return op; },
    invert: () => "!",
  };
  TypesManager.register(fragile);
  const { doc, ws, sent } = await loaded("", 1, fragile.uri);
  const events = record(doc);
  const mine = doc.submitOp("a");
  serve(ws, { a: 5, v: 1, src: B, seq: 1, op: "?" });
  await assert.rejects(mine, (e) => e.code === 10 && e.message === "Op transform failed: cannot transform");
  assert.deepEqual(events.slice(-2), [["hardRollback", "10 Op transform failed: cannot transform"], ["error", "10 Op transform failed: cannot transform"]]);
  serve(ws, { a: 3, data: { id: "room1", v: 2, type: fragile.uri, data: "?" } });
  await settle();
  const refused = doc.submitOp("b");
  const queued = doc.submitOp("c");
  serve(ws, { ...sent().at(-1), error: { code: 1000, message: "Forbidden" } });
  await assert.rejects(refused, (e) => e.code === 1000);
  await assert.rejects(queued, (e) => e.code === 9 && e.message === "cannot apply");
  assert.deepEqual(events.slice(-3).map((e) => e.slice(0, 2)), [["error", "1000 Forbidden"], ["hardRollback", "9 cannot apply"], ["error", "9 cannot apply"]]);
  assert.deepEqual([doc.version, doc.data, sent().at(-1)], [undefined, undefined, { a: 3 }]);
});

test("a gap seen while a fetch is in flight is fetched again once that fetch is answered without it", async () => {
  const { doc, ws, sent } = await loaded({ n: 0 }, 1);
  serve(ws, { a: 5, v: 2, src: B, seq: 2, op: [{ p: ["n"], na: 2 }] });
  serve(ws, { a: 5, v: 4, src: B, seq: 4, op: [{ p: ["n"], na: 8 }] }); // a fetch is in flight: no second one yet
  assert.deepEqual(sent(), [{ a: 0, v: 1 }]);
  // The fetch was answered before the op at 3 was committed: it brings 1 and 2 only.
  serve(ws, { a: 5, v: 1, src: B, seq: 1, op: [{ p: ["n"], na: 1 }] });
  serve(ws, { a: 5, v: 2, src: B, seq: 2, op: [{ p: ["n"], na: 2 }] });
  serve(ws, { a: 0 });
  assert.equal(doc.version, 3);
  assert.deepEqual(sent(), [{ a: 0, v: 1 }, { a: 0, v: 3 }], "the gap up to the op seen at 4 is fetched again");
  serve(ws, { a: 5, v: 3, src: B, seq: 3, op: [{ p: ["n"], na: 4 }] });
  serve(ws, { a: 5, v: 4, src: B, seq: 4, op: [{ p: ["n"], na: 8 }] });
  serve(ws, { a: 0 });
  assert.deepEqual([doc.version, doc.data], [5, { n: 15 }]);
  assert.equal(sent().length, 2, "caught up: no further fetch");
});
