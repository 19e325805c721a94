// Compiled by `npm run check` only: code written against the declarations, as a user would write it.
import { Client, DisconnectReason, Presence, type Connection } from "../index.js";

const client = new Client("ws://localhost:5000", { reconnectionDelay: 500, path: "/realtime" });
const connection: Connection = client.connect("room1", { query: { user: "ann" }, auth: async () => ({ token: "t" }) });
const onMessage = connection.on("message", (data, type) => console.log(data, type?.toUpperCase()));
connection.off("message", onMessage);
connection.once("disconnect", (reason) => {
  const known: boolean = reason === DisconnectReason.PING_TIMEOUT;
  console.log(known, connection.id?.length, connection.connected);
});
connection.on("reconnectAttempts", (attempt: number) => console.log(attempt));
connection.on("reconnect", () => {
  const recovered: boolean = connection.recovered;
  if (!recovered) console.log("reload the room's state");
});
// @ts-expect-error: read-only.
connection.recovered = true;
connection.send({ userId: "user1", active: true }, "my-presence");
connection.send(new Uint8Array([1, 2, 3]));
// @ts-expect-error: not an event of a connection.
connection.on("reconnect_attempt", () => {});
connection.close();
console.log(client.url);

// Presence: the state type flows into the events and the field updates.
interface Cursor { name: string; x: number; y: number }
const presence = new Presence<Cursor>(connection, { restoreOnReconnect: true });
presence.subscribe().then(() => console.log(Object.keys(presence.otherStates).length, presence.localState?.name));
presence.submitLocalState({ name: "ann", x: 0, y: 0 });
presence.submitLocalStateField("x", 0.5);
// @ts-expect-error: a field of another type.
presence.submitLocalStateField("x", "left");
const onAdd = presence.on("add", (states) => console.log(states["some-id"]?.x));
presence.off("add", onAdd);
presence.once("remove", (ids: string[]) => console.log(ids.length, presence.id, presence.connection.roomId));
presence.on("update", (states: Record<string, Cursor>) => console.log(Object.values(states)[0]?.y));
// @ts-expect-error: not an event of a presence.
presence.on("change", () => {});
presence.removeLocalState();
presence.destroy();
new Presence(connection).submitLocalStateField("anything", [1, 2]);

// SharedDoc: any type of the common OT interface; data and ops are typed by the type parameters.
import { SharedDoc, TypesManager, OTError, type OTType } from "../index.js";
const counter: OTType<{ n: number }, number> = {
  name: "counter",
  create: (data?: { n: number }) => data ?? { n: 0 },
  apply: (s, op) => ({ n: s.n + op }),
  transform: (op) => op,
  compose: (a, b) => a + b,
  invert: (op) => -op,
};
TypesManager.register(counter);
const doc = new SharedDoc<{ n: number }, number>(connection);
doc.subscribe().then(async () => {
  if (!doc.type) await doc.create({ n: 1 }, "counter");
  await doc.submitOp(2, { source: "button" });
  const old = await doc.fetchHistorySnapshot({ version: 1 });
  console.log(doc.version, doc.data?.n, old.data?.n, doc.id === doc.connection.roomId, doc.subscribed);
  await doc.restore(1);
  await doc.del();
}).catch((e: OTError) => console.log(e.code, e.message));
doc.on("op", (op: number, source: unknown) => console.log(op, source));
doc.on("error", (e) => console.log(e.code));
doc.once("restore", (v: number) => console.log(v));
// @ts-expect-error: an op of another type.
doc.submitOp("2");
// @ts-expect-error: not an event of a document.
doc.on("change", () => {});
doc.hardRollback().then(() => doc.destroy());
