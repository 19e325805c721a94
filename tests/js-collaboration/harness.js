// What the Node end-to-end tests of the compatibility endpoint share: the origins JsCollaborationNodeTests passes in (the server,
// and the fault proxy in front of it), the control channel to the .NET side (`@@control <command>` on stdout, its answer on
// stdin), and the wait for a connection's next event.
import { after } from "node:test";
import { createInterface } from "node:readline";

export const origin = process.env.REALTIME_ORIGIN;
export const proxyOrigin = process.env.REALTIME_PROXY_ORIGIN;
if (!origin || !proxyOrigin) throw new Error("REALTIME_ORIGIN and REALTIME_PROXY_ORIGIN are not set: run this through the .NET test JsCollaborationNodeTests");

const stdin = createInterface({ input: process.stdin });
const answers = [];
const waiting = [];
stdin.on("line", (line) => (waiting.length ? waiting.shift()(line) : answers.push(line)));
after(() => stdin.close()); // stdin would keep the process alive once every test has run

/** Asks the .NET side to act on the server or the proxy, and waits until it has. */
export const control = (command) => {
  process.stdout.write(`@@control ${command}\n`);
  return new Promise((resolve) => (answers.length ? resolve(answers.shift()) : waiting.push(resolve)));
};

/** Resolves with the handler's arguments the next time `name` is raised (optionally one that matches), or rejects after 15 s. */
export const next = (connection, name, match = () => true) => new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`no ${name} within 15 s (the connection is ${connection.connected ? "connected" : "not connected"})`)), 15000);
  const handler = (...args) => {
    if (!match(...args)) return;
    connection.off(name, handler);
    clearTimeout(timer);
    resolve(args);
  };
  connection.on(name, handler);
});

/**
 * The connections of one test file: `room()` names a fresh room (`<prefix>-<pid>-<n>`), `connect` opens a seed connection to it and
 * waits for its connect, `track` adds a connection opened otherwise, and `closeAll` (run after each test) closes every connection opened, even when an assertion failed (a
 * reconnecting socket keeps the process alive).
 */
export const connections = (Connection, prefix) => {
  let rooms = 0;
  const open = new Set();
  return {
    room: (name = prefix) => `${name}-${process.pid}-${++rooms}`,
    connect: async (roomId, url = origin) => {
      const connection = new Connection(url, { roomId });
      open.add(connection);
      await next(connection, "connect");
      return connection;
    },
    /** Closes `connection` (any object with `close()`) with the others after the test. */
    track: (connection) => open.add(connection),
    closeAll: () => {
      for (const c of open) c.close();
      open.clear();
    },
  };
};
