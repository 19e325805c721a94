// The presence wire of the original framework (js-collaboration-features.md §4), driven frame by frame through
// socket.io-client as the original client configures it, against the real Realtime server's compatibility endpoint with
// `server.UsePresence()`. Every request is `42["m",["presence", "<JSON of {a: …}>", compressed]]` and every answer is
// read back as that JSON string (gunzipped when it came compressed). Run by the .NET test JsCollaborationNodeTests with the
// server of compat.e2e.js (whose "echo" type comes back to its sender only, used here as a barrier: a connection's
// messages are handled in order, so once its echo is back, everything its earlier messages caused has been sent) and
// the fault proxy in front of it (REALTIME_PROXY_ORIGIN; `@@control reset` cuts every proxied connection abruptly).
import { test } from "node:test";
import { connections, control, next, origin, proxyOrigin } from "./harness.js";
import assert from "node:assert/strict";
import { Connection } from "./seed-connection.js";

const TIMEOUT = 15000;

const { room, connect, closeAll } = connections(Connection, "presence-room");

/**
 * Records a connection's presence messages, each the parsed JSON of its data string plus the frame's compressed flag,
 * and lets a test wait for the next one of an action.
 */
class Wire {
  /** @type {Array<Record<string, any>>} */
  received = [];
  #read = 0;
  #wake = () => {};

  constructor(connection) {
    this.connection = connection;
    connection.on("message", (data, type, compressed) => {
      if (type !== "presence") return;
      assert.equal(typeof data, "string", `presence data must be a JSON string, got ${JSON.stringify(data)}`);
      this.received.push({ ...JSON.parse(data), compressed });
      this.#wake();
    });
  }

  /** Sends `request` as the original client does: the JSON string of it, as a message of type "presence". */
  send(request) {
    this.connection.send(typeof request === "string" ? request : JSON.stringify(request), "presence");
  }

  /** The next presence message not yet taken; it must have action `a`. */
  async take(a) {
    const deadline = Date.now() + TIMEOUT;
    while (this.#read >= this.received.length) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no presence message (wanted a:${a}) within 15 s`);
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    const m = this.received[this.#read++];
    assert.equal(m.a, a, `expected a:${a}, got ${JSON.stringify(m)}`);
    return m;
  }

  /**
   * Asserts that no presence message arrived that was not taken, once the server has handled everything that `senders`
   * and then this connection sent (echoes in that order: what a sender caused was queued here before this echo's answer).
   */
  async nothingMore(...senders) {
    for (const wire of [...senders, this]) await echo(wire.connection);
    assert.deepEqual(this.received.slice(this.#read), []);
  }
}

/** Sends an echo and waits for it: the server has handled everything this connection sent before. */
async function echo(connection) {
  const token = Math.random().toString(36).slice(2);
  const back = next(connection, "message", (data, type) => type === "echo" && data === token);
  connection.send(token, "echo");
  await back;
}

/** `n` subscribed connections in one new room (with their wires); the subscribe answers are taken. */
async function subscribed(n, roomId = room()) {
  const wires = [];
  for (let i = 0; i < n; i++) {
    const wire = new Wire(await connect(roomId));
    wire.send({ a: "s" });
    await wire.take("s");
    wires.push(wire);
  }
  return wires;
}

test("the captured session of §4.4: a state before subscribing, add then update, a field update, remove, add again, the late joiner, leave", async (t) => {
  t.after(closeAll);
  const roomId = room();
  const A = new Wire(await connect(roomId));
  A.send({ a: "d", presence: { user: "a", sel: [1, 1] } });
  A.send({ a: "s" });
  const own = await A.take("s");
  assert.deepEqual(own.presences, { [A.connection.id]: { user: "a", sel: [1, 1] } }, "the sender's own state comes back");

  const B = new Wire(await connect(roomId));
  B.send({ a: "s" });
  assert.deepEqual((await B.take("s")).presences, { [A.connection.id]: { user: "a", sel: [1, 1] } });
  const b = B.connection.id;
  B.send({ a: "d", presence: { user: "b", sel: [2, 2] } });
  assert.deepEqual((await A.take("a")).presences, { [b]: { user: "b", sel: [2, 2] } }, "a first state is an add");
  B.send({ a: "d", presence: { user: "b", sel: [3, 3] } });
  assert.deepEqual((await A.take("d")).presences, { [b]: { user: "b", sel: [3, 3] } }, "a replacement is an update");
  B.send({ a: "df", fieldUpdate: { k: "sel", v: [4, 4] } });
  assert.deepEqual((await A.take("df")).fieldUpdates, { [b]: { k: "sel", v: [4, 4] } });
  B.send({ a: "r" });
  assert.deepEqual((await A.take("r")).presencesIds, [b]);
  B.send({ a: "d", presence: { user: "b", back: true } });
  assert.deepEqual((await A.take("a")).presences, { [b]: { user: "b", back: true } }, "after a remove it is an add again");

  const C = new Wire(await connect(roomId));
  C.send({ a: "s" });
  assert.deepEqual((await C.take("s")).presences, { [A.connection.id]: { user: "a", sel: [1, 1] }, [b]: { user: "b", back: true } }, "the late joiner gets every state");

  B.connection.close();
  assert.deepEqual((await A.take("r")).presencesIds, [b]);
  assert.deepEqual((await C.take("r")).presencesIds, [b]);
  await A.nothingMore(C);
});

test("a field update applies to the stored state: a late joiner sees it merged", async (t) => {
  t.after(closeAll);
  const [A, B] = await subscribed(2);
  B.send({ a: "d", presence: { user: "b", sel: [1, 1] } });
  await A.take("a");
  B.send({ a: "df", fieldUpdate: { k: "sel", v: [9, 9] } });
  B.send({ a: "df", fieldUpdate: { k: "extra", v: { deep: [null, true] } } });
  await A.take("df");
  await A.take("df");
  const C = new Wire(await connect(B.connection.roomId));
  C.send({ a: "s" });
  assert.deepEqual((await C.take("s")).presences, { [B.connection.id]: { user: "b", sel: [9, 9], extra: { deep: [null, true] } } });
});

test("a field update is ignored for __proto__, constructor and prototype, a key that is not a string, a state that is not an object, and no state", async (t) => {
  t.after(closeAll);
  const [A, B] = await subscribed(2);
  B.send({ a: "df", fieldUpdate: { k: "x", v: 1 } }); // no state yet
  B.send({ a: "d", presence: { user: "b" } });
  await A.take("a");
  for (const k of ["__proto__", "constructor", "prototype"]) B.send(`{"a":"df","fieldUpdate":{"k":"${k}","v":{"polluted":true}}}`);
  B.send({ a: "df", fieldUpdate: { k: 7, v: 1 } });
  await A.nothingMore(B);
  B.send({ a: "d", presence: "a string" });
  await A.take("d");
  B.send({ a: "df", fieldUpdate: { k: "x", v: 1 } });
  B.send({ a: "d", presence: 5 });
  await A.take("d");
  B.send({ a: "df", fieldUpdate: { k: "x", v: 1 } });
  await A.nothingMore(B);

  B.send({ a: "d", presence: { user: "b" } });
  await A.take("d");
  const C = new Wire(await connect(B.connection.roomId));
  C.send({ a: "s" });
  const state = (await C.take("s")).presences[B.connection.id];
  assert.deepEqual(Object.keys(state), ["user"], "none of the refused keys reached the stored state");
});

test('{"a":"d"} without presence is a remove; a remove without a state sends nothing', async (t) => {
  t.after(closeAll);
  const [A, B] = await subscribed(2);
  B.send({ a: "r" });
  B.send({ a: "d" });
  await A.nothingMore(B);
  B.send({ a: "d", presence: { user: "b" } });
  await A.take("a");
  B.send({ a: "d" });
  assert.deepEqual((await A.take("r")).presencesIds, [B.connection.id]);
  B.send({ a: "d", presence: { user: "b" } });
  await A.take("a");
});

test("broadcasts reach subscribers only and never the sender; a state without a subscription is still stored and broadcast", async (t) => {
  t.after(closeAll);
  const roomId = room();
  const [A] = await subscribed(1, roomId);
  const N = new Wire(await connect(roomId)); // never subscribes
  N.send({ a: "d", presence: { user: "n" } });
  assert.deepEqual((await A.take("a")).presences, { [N.connection.id]: { user: "n" } });
  A.send({ a: "d", presence: { user: "a" } });
  A.send({ a: "df", fieldUpdate: { k: "user", v: "A" } });
  A.send({ a: "r" });
  N.send({ a: "df", fieldUpdate: { k: "user", v: "N" } });
  await A.take("df");
  await N.nothingMore(A);
  await A.nothingMore(N);
  assert.deepEqual(N.received, [], "a connection that has not subscribed gets nothing");
});

test("states and broadcasts stay in their room", async (t) => {
  t.after(closeAll);
  const [A] = await subscribed(1);
  const [X] = await subscribed(1);
  X.send({ a: "d", presence: { user: "x" } });
  await A.nothingMore(X);
  A.send({ a: "s" });
  assert.deepEqual((await A.take("s")).presences, {});
});

test("a string that is not JSON gets message_error and the connection stays; non-string data, non-objects and u are ignored", async (t) => {
  t.after(closeAll);
  const [A, B] = await subscribed(2);
  const errors = [];
  B.connection.on("error", (error) => errors.push(error.message));
  const error = next(B.connection, "error");
  B.send("{not json");
  assert.match((await error)[0].message, /^Failed to parse presence message: ./);
  assert.equal(B.connection.connected, true);
  B.connection.send({ a: "d", presence: { user: "b" } }, "presence"); // an object, not a string
  B.connection.send(42, "presence");
  B.connection.send(null, "presence");
  B.send("[1,2]");
  B.send("42");
  B.send('"s"');
  B.send({ a: "u" });
  B.send({ a: "zz" });
  await A.nothingMore(B);
  await B.nothingMore();
  assert.equal(errors.length, 1, errors.join("; "));
  B.send({ a: "d", presence: { user: "b" } });
  assert.deepEqual((await A.take("a")).presences, { [B.connection.id]: { user: "b" } }, "the connection still works");
});

test("answers of 128 bytes and more may come gzip + base64 with compressed true, and decode to the same JSON string", async (t) => {
  t.after(closeAll);
  const [A, B] = await subscribed(2);
  const big = { user: "b", note: "a long note ".repeat(30) };
  B.send({ a: "d", presence: big });
  const add = await A.take("a");
  assert.equal(add.compressed, true);
  assert.deepEqual(add.presences, { [B.connection.id]: big });
  B.send({ a: "df", fieldUpdate: { k: "n", v: 1 } });
  assert.equal((await A.take("df")).compressed, false, "a small answer travels as it is");
  const C = new Wire(await connect(B.connection.roomId));
  C.send({ a: "s" });
  const all = await C.take("s");
  assert.equal(all.compressed, true);
  assert.deepEqual(all.presences, { [B.connection.id]: { ...big, n: 1 } });
});

test("a transport loss removes the state: the others get r, and the reconnected connection is neither subscribed nor present", async (t) => {
  t.after(closeAll);
  const roomId = room();
  const [A] = await subscribed(1, roomId);
  const B = new Wire(await connect(roomId, proxyOrigin));
  B.send({ a: "s" });
  await B.take("s");
  B.send({ a: "d", presence: { user: "b" } });
  await A.take("a");
  const id = B.connection.id;
  const reconnected = next(B.connection, "connect");
  await control("reset"); // both ends of B's proxied TCP connection are cut, without a close handshake
  assert.deepEqual((await A.take("r")).presencesIds, [id]);
  await reconnected;
  assert.equal(B.connection.id, id, "the original client keeps its id across a reconnection");
  A.send({ a: "d", presence: { user: "a" } });
  await B.nothingMore(A);
  A.send({ a: "s" });
  assert.deepEqual((await A.take("s")).presences, { [A.connection.id]: { user: "a" } }, "the reconnected connection has no state");
  B.send({ a: "d", presence: { user: "b", again: true } });
  assert.deepEqual((await A.take("a")).presences, { [id]: { user: "b", again: true } }, "submitted again, it is an add under the same id");
});
