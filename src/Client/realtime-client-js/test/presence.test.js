import { test, mock, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import { Client, Presence } from "../src/realtime-client.js";
import { fakeWebSocket, settle } from "./fake-websocket.js";

const A = "A".repeat(20);
const B = "B".repeat(20);
const C = "C".repeat(20);
const A2 = "a".repeat(20);

let fake;
beforeEach(() => {
  fake = fakeWebSocket();
  mock.timers.enable({ apis: ["setTimeout", "Date"] });
});
afterEach(() => mock.timers.reset());

const connect = () => new Client("http://localhost:5000", { WebSocket: fake.WebSocket, randomizationFactor: 0 }).connect("room1");

const accept = (id = A) => fake.accept(id);

/** The presence requests a socket carried, parsed from their JSON-string data. */
const requests = (ws) => ws.frames.filter((f) => f.t === "msg" && f.type === "presence").map((f) => {
  assert.equal(typeof f.data, "string", "presence data travels as a JSON string");
  return JSON.parse(f.data);
});

/** Plays the server: a presence message whose data is the JSON string of `body`. */
const serve = (ws, body) => ws.receive({ t: "msg", type: "presence", data: JSON.stringify(body) });

/** Records every event of a presence as [name, argument]. */
function record(presence) {
  const events = [];
  for (const name of ["add", "update", "remove"]) presence.on(name, (arg) => events.push([name, arg]));
  return events;
}

/** Drops the socket and lets the client reconnect with `id`. */
async function reconnect(ws, id) {
  ws.serverClose(1006);
  mock.timers.tick(1000);
  return accept(id);
}

test("every action is a message of type presence whose data is the JSON string of {a: …}", async () => {
  const connection = connect();
  const presence = new Presence(connection);
  const ws = await accept();
  const subscribed = presence.subscribe();
  presence.submitLocalState({ user: "a", sel: [1, 1] });
  presence.submitLocalStateField("sel", [2, 2]);
  presence.removeLocalState();
  assert.deepEqual(requests(ws), [
    { a: "s" },
    { a: "d", presence: { user: "a", sel: [1, 1] } },
    { a: "df", fieldUpdate: { k: "sel", v: [2, 2] } },
    { a: "r" },
  ]);
  assert.deepEqual(ws.frames.slice(1).map((f) => [f.t, f.type]), [["msg", "presence"], ["msg", "presence"], ["msg", "presence"], ["msg", "presence"]]);
  serve(ws, { a: "s", presences: {} });
  await subscribed;
});

test("localState: undefined until set, set by submitLocalState, merged by a field update, cleared by removeLocalState", async () => {
  const connection = connect();
  const presence = new Presence(connection);
  await accept();
  assert.equal(presence.localState, undefined);
  assert.deepEqual(presence.otherStates, {});
  assert.equal(presence.connection, connection);
  assert.equal(presence.id, A);
  const first = { user: "a", sel: [1, 1] };
  presence.submitLocalState(first);
  assert.equal(presence.localState, first);
  presence.submitLocalStateField("sel", [4, 4]);
  assert.deepEqual(presence.localState, { user: "a", sel: [4, 4] });
  assert.deepEqual(first, { user: "a", sel: [1, 1] }, "the object the application passed is not changed");
  presence.removeLocalState();
  assert.equal(presence.localState, undefined);
});

test("a field update of a state that is not an object, or of __proto__, constructor or prototype, is sent but not applied here", async () => {
  const connection = connect();
  const presence = new Presence(connection);
  const ws = await accept();
  presence.submitLocalStateField("x", 1);
  assert.equal(presence.localState, undefined);
  presence.submitLocalState("a string state");
  presence.submitLocalStateField("x", 1);
  assert.equal(presence.localState, "a string state");
  presence.submitLocalState({ user: "a" });
  for (const key of ["__proto__", "constructor", "prototype"]) presence.submitLocalStateField(key, { polluted: true });
  assert.deepEqual(presence.localState, { user: "a" });
  assert.equal(Object.getPrototypeOf(presence.localState), Object.prototype);
  assert.equal(requests(ws).filter((r) => r.a === "df").length, 5);
});

test("the subscribe answer replaces otherStates, files this connection's entry as localState, raises no event, and resolves subscribe", async () => {
  const connection = connect();
  const presence = new Presence(connection);
  const events = record(presence);
  const ws = await accept();
  serve(ws, { a: "a", presences: { [C]: { user: "stale" } } });
  let resolved = false;
  const subscribed = presence.subscribe().then(() => (resolved = true));
  await settle();
  assert.equal(resolved, false, "not before the answer");
  serve(ws, { a: "s", presences: { [A]: { user: "a", sel: [1, 1] }, [B]: { user: "b" } } });
  await subscribed;
  assert.deepEqual(presence.otherStates, { [B]: { user: "b" } });
  assert.deepEqual(presence.localState, { user: "a", sel: [1, 1] });
  assert.deepEqual(events, [["add", { [C]: { user: "stale" } }]]);
});

test("add on a, update on d, update with the merged state on df, remove on r, and otherStates follows", async () => {
  const connection = connect();
  const presence = new Presence(connection);
  const events = record(presence);
  const ws = await accept();
  serve(ws, { a: "a", presences: { [B]: { user: "b", sel: [2, 2] } } });
  assert.deepEqual(presence.otherStates, { [B]: { user: "b", sel: [2, 2] } });
  serve(ws, { a: "d", presences: { [B]: { user: "b", sel: [3, 3] } } });
  serve(ws, { a: "df", fieldUpdates: { [B]: { k: "sel", v: [4, 4] } } });
  assert.deepEqual(presence.otherStates, { [B]: { user: "b", sel: [4, 4] } });
  serve(ws, { a: "a", presences: { [C]: { user: "c" } } });
  serve(ws, { a: "r", presencesIds: [B] });
  assert.deepEqual(presence.otherStates, { [C]: { user: "c" } });
  serve(ws, { a: "a", presences: { [B]: { user: "b", back: true } } });
  assert.deepEqual(events, [
    ["add", { [B]: { user: "b", sel: [2, 2] } }],
    ["update", { [B]: { user: "b", sel: [3, 3] } }],
    ["update", { [B]: { user: "b", sel: [4, 4] } }],
    ["add", { [C]: { user: "c" } }],
    ["remove", [B]],
    ["add", { [B]: { user: "b", back: true } }],
  ]);
});

test("a field update is dropped for an id with no state or a state that is not an object, and for a prototype key", async () => {
  const connection = connect();
  const presence = new Presence(connection);
  const events = record(presence);
  const ws = await accept();
  serve(ws, { a: "a", presences: { [B]: "a string", [C]: { user: "c" } } });
  events.length = 0;
  serve(ws, { a: "df", fieldUpdates: { [A2]: { k: "x", v: 1 } } });
  serve(ws, { a: "df", fieldUpdates: { [B]: { k: "x", v: 1 } } });
  serve(ws, { a: "df", fieldUpdates: { [C]: { k: "__proto__", v: { polluted: true } } } });
  serve(ws, { a: "df", fieldUpdates: { [C]: { k: 7, v: 1 } } });
  serve(ws, { a: "df", fieldUpdates: { [B]: { k: "x", v: 1 }, [C]: { k: "x", v: 2 } } });
  assert.deepEqual(events, [["update", { [C]: { user: "c", x: 2 } }]]);
  assert.deepEqual(presence.otherStates, { [B]: "a string", [C]: { user: "c", x: 2 } });
  assert.equal({}.polluted, undefined);
});

test("other types, non-string data, text that is not JSON and unknown actions are ignored; the message event still sees presence", async () => {
  const connection = connect();
  const presence = new Presence(connection);
  const events = record(presence);
  const messages = [];
  connection.on("message", (data, type) => messages.push(type));
  const ws = await accept();
  ws.receive({ t: "msg", type: "other", data: JSON.stringify({ a: "a", presences: { [B]: 1 } }) });
  ws.receive({ t: "msg", type: "presence", data: { a: "a", presences: { [B]: 1 } } });
  ws.receive({ t: "msg", type: "presence", data: "{not json" });
  serve(ws, [1, 2]);
  serve(ws, { a: "u" });
  serve(ws, { a: "a", presences: { [B]: 1 } });
  assert.deepEqual(events, [["add", { [B]: 1 }]]);
  assert.deepEqual(messages, ["other", "presence", "presence", "presence", "presence", "presence"]);
});

test("on, once and off; an unknown event is refused", async () => {
  const presence = new Presence(connect());
  const ws = await accept();
  const seen = [];
  const h = presence.on("remove", (ids) => seen.push(`on:${ids}`));
  presence.once("remove", (ids) => seen.push(`once:${ids}`));
  serve(ws, { a: "r", presencesIds: ["x"] });
  presence.off("remove", h);
  serve(ws, { a: "r", presencesIds: ["y"] });
  assert.deepEqual(seen, ["on:x", "once:x"]);
  assert.throws(() => presence.on("change", () => {}), /Unknown event "change"; the events are add, update, remove/);
});

test("requests made before the connection is up wait in its buffer and go out after welcome", async () => {
  const connection = connect();
  const presence = new Presence(connection);
  const subscribed = presence.subscribe();
  presence.submitLocalState({ user: "a" });
  assert.deepEqual(presence.localState, { user: "a" });
  const ws = await accept();
  assert.deepEqual(requests(ws), [{ a: "s" }, { a: "d", presence: { user: "a" } }]);
  serve(ws, { a: "s", presences: { [A]: { user: "a" } } });
  await subscribed;
});

test("on a closed connection the methods throw as send does, and subscribe rejects; localState is unchanged", async () => {
  const connection = connect();
  const presence = new Presence(connection);
  await accept();
  presence.submitLocalState({ user: "a" });
  connection.close();
  assert.throws(() => presence.submitLocalState({ user: "b" }), /The connection is closed/);
  assert.throws(() => presence.submitLocalStateField("user", "b"), /The connection is closed/);
  assert.throws(() => presence.removeLocalState(), /The connection is closed/);
  await assert.rejects(presence.subscribe(), /The connection is closed/);
  assert.deepEqual(presence.localState, { user: "a" });
});

test("destroy stops listening, removes the listeners, rejects a waiting subscribe and refuses further requests", async () => {
  const connection = connect();
  const presence = new Presence(connection, { restoreOnReconnect: true });
  const events = record(presence);
  const ws = await accept();
  const waiting = presence.subscribe();
  presence.destroy();
  await assert.rejects(waiting, /The presence was destroyed/);
  serve(ws, { a: "a", presences: { [B]: { user: "b" } } });
  assert.deepEqual(events, []);
  assert.deepEqual(presence.otherStates, {});
  assert.throws(() => presence.submitLocalState({}), /The presence was destroyed/);
  await assert.rejects(presence.subscribe(), /The presence was destroyed/);
  const sent = ws.sent.length;
  const again = await reconnect(ws, B);
  assert.equal(ws.sent.length, sent);
  assert.deepEqual(requests(again), [], "no restore after destroy");
  presence.destroy();
});

test("without restoreOnReconnect a reconnection sends nothing and keeps the stale states, as the original does", async () => {
  const connection = connect();
  const presence = new Presence(connection);
  const events = record(presence);
  const ws = await accept(A);
  const subscribed = presence.subscribe();
  serve(ws, { a: "s", presences: { [B]: { user: "b" } } });
  await subscribed;
  presence.submitLocalState({ user: "a" });
  const again = await reconnect(ws, A2);
  assert.equal(presence.id, A2);
  assert.deepEqual(requests(again), []);
  assert.deepEqual(presence.otherStates, { [B]: { user: "b" } });
  assert.deepEqual(presence.localState, { user: "a" });
  assert.deepEqual(events, []);
});

test("restoreOnReconnect: after a reconnection it subscribes and submits its state again, and reports what changed meanwhile", async () => {
  const connection = connect();
  const presence = new Presence(connection, { restoreOnReconnect: true });
  const events = record(presence);
  const order = [];
  connection.on("connect", () => order.push(`connect:${requests(fake.sockets.at(-1)).length}`));
  const ws = await accept(A);
  assert.deepEqual(requests(ws), [], "nothing on the first connection");
  const subscribed = presence.subscribe();
  serve(ws, { a: "s", presences: { [B]: { user: "b" }, [C]: { user: "c" } } });
  await subscribed;
  presence.submitLocalState({ user: "a", x: 1 });
  presence.submitLocalStateField("x", 2);

  const again = await reconnect(ws, A2);
  assert.deepEqual(requests(again), [{ a: "s" }, { a: "d", presence: { user: "a", x: 2 } }]);
  assert.deepEqual(order, ["connect:0", "connect:2"], "restored before the application's connect handlers run");
  // Meanwhile B left, C moved and D came; the answer holds this connection's state under its new id.
  const D = "D".repeat(20);
  serve(again, { a: "s", presences: { [C]: { user: "c", moved: true }, [D]: { user: "d" }, [A2]: { user: "a", x: 2 } } });
  assert.deepEqual(events, [
    ["remove", [B]],
    ["add", { [D]: { user: "d" } }],
    ["update", { [C]: { user: "c", moved: true } }],
  ]);
  assert.deepEqual(presence.otherStates, { [C]: { user: "c", moved: true }, [D]: { user: "d" } });
  assert.deepEqual(presence.localState, { user: "a", x: 2 });

  // A later subscribe answer of the application's own raises no events, as without the option.
  events.length = 0;
  const later = presence.subscribe();
  serve(again, { a: "s", presences: {} });
  await later;
  assert.deepEqual(events, []);
});

test("restoreOnReconnect does not repeat what the offline buffer carries, and restores nothing it never had", async () => {
  const connection = connect();
  const presence = new Presence(connection, { restoreOnReconnect: true });
  let ws = await accept(A);
  ws = await reconnect(ws, B);
  assert.deepEqual(requests(ws), [], "neither subscribed nor a state: nothing to restore");

  // Subscribed and a state, both live; then during the outage the application subscribes and submits again itself.
  presence.subscribe();
  presence.submitLocalState({ n: 1 });
  ws.serverClose(1006);
  presence.subscribe();
  presence.submitLocalState({ n: 2 });
  mock.timers.tick(1000);
  ws = await accept(C);
  assert.deepEqual(requests(ws), [{ a: "s" }, { a: "d", presence: { n: 2 } }]);

  // A field update made offline cannot apply to a new connection, which has no state: the whole state follows it.
  presence.submitLocalStateField("n", 3);
  assert.deepEqual(requests(ws).at(-1), { a: "df", fieldUpdate: { k: "n", v: 3 } });
  ws.serverClose(1006);
  presence.submitLocalStateField("n", 4);
  mock.timers.tick(1000);
  ws = await accept(A2);
  assert.deepEqual(requests(ws), [{ a: "df", fieldUpdate: { k: "n", v: 4 } }, { a: "s" }, { a: "d", presence: { n: 4 } }]);

  // A state removed while offline is not restored.
  ws.serverClose(1006);
  presence.removeLocalState();
  mock.timers.tick(1000);
  ws = await accept(B);
  assert.deepEqual(requests(ws), [{ a: "r" }, { a: "s" }]);
});

test("a subscribe lost with a dropped connection is answered by the restore's", async () => {
  const connection = connect();
  const presence = new Presence(connection, { restoreOnReconnect: true });
  const ws = await accept(A);
  const subscribed = presence.subscribe();
  const again = await reconnect(ws, B);
  serve(again, { a: "s", presences: { [C]: { user: "c" } } });
  await subscribed;
  assert.deepEqual(presence.otherStates, { [C]: { user: "c" } });
});

test("restoreOnReconnect leaves the first connection to the application: a subscribe in its connect handler is sent once", async () => {
  const connection = connect();
  let presence;
  connection.on("connect", () => presence.subscribe());
  presence = new Presence(connection, { restoreOnReconnect: true });
  const ws = await accept(A);
  assert.deepEqual(requests(ws), [{ a: "s" }]);
});
