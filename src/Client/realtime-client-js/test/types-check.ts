// Compiled by `npm run check` only: code written against the declarations, as a user would write it.
import { Client, DisconnectReason, type Connection } from "../index.js";

const client = new Client("ws://localhost:5000", { reconnectionDelay: 500, path: "/realtime" });
const connection: Connection = client.connect("room1", { query: { user: "ann" }, auth: async () => ({ token: "t" }) });
const onMessage = connection.on("message", (data, type) => console.log(data, type?.toUpperCase()));
connection.off("message", onMessage);
connection.once("disconnect", (reason) => {
  const known: boolean = reason === DisconnectReason.PING_TIMEOUT;
  console.log(known, connection.id?.length, connection.connected);
});
connection.on("reconnectAttempts", (attempt: number) => console.log(attempt));
connection.send({ userId: "user1", active: true }, "my-presence");
connection.send(new Uint8Array([1, 2, 3]));
// @ts-expect-error: not an event of a connection.
connection.on("reconnect_attempt", () => {});
connection.close();
console.log(client.url);
