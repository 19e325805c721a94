// A stand-in for the original framework's client `Connection` (the seed page, ../../../shared is not needed to run it):
// the MIT-licensed socket.io-client, configured as that client configures it (WebSocket transport only, the path, the
// query with a client-chosen `id` and the `roomId`, the auth payload), speaking its `m` event with the gzip + base64
// rule and mapping Socket.IO's disconnect reasons to the five DisconnectReason values. Written from the documented
// behaviour; it contains none of the vendor's code.
import { io } from "socket.io-client";
import { gzipSync, gunzipSync } from "node:zlib";
import { randomInt } from "node:crypto";

export const DisconnectReason = Object.freeze({
  CLIENT_DISCONNECT: 0,
  SERVER_DISCONNECT: 1,
  PING_TIMEOUT: 2,
  TRANSPORT_CLOSE: 3,
  TRANSPORT_ERROR: 4,
});

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** A 20-character id of [0-9A-Za-z], generated once per connection, as the original client does. */
export const newId = () => Array.from({ length: 20 }, () => ALPHABET[randomInt(ALPHABET.length)]).join("");

const REASONS = {
  "io client disconnect": DisconnectReason.CLIENT_DISCONNECT,
  "io server disconnect": DisconnectReason.SERVER_DISCONNECT,
  "ping timeout": DisconnectReason.PING_TIMEOUT,
  "transport close": DisconnectReason.TRANSPORT_CLOSE,
};

/**
 * The rule both sides of the original apply: JSON of at least 128 UTF-8 bytes is gzipped (zlib's default level, which
 * zlib.gzipSync uses), and travels as the base64 of that gzip when the gzip has fewer bytes than the JSON, whatever the base64
 * text then costs. Returns the gzip, or null when the JSON travels as it is.
 */
export function originalGzip(json) {
  const utf8 = Buffer.from(json, "utf8");
  if (utf8.length < 128) return null;
  const gzipped = gzipSync(utf8);
  return gzipped.length < utf8.length ? gzipped : null;
}

export function compress(data) {
  const value = data === undefined ? null : data;
  const gzipped = originalGzip(JSON.stringify(value));
  return gzipped ? [gzipped.toString("base64"), true] : [value, false];
}

export const decompress = (data, compressed) => (compressed ? JSON.parse(gunzipSync(Buffer.from(data, "base64")).toString("utf8")) : data);

export class Connection {
  #handlers = new Map();
  #id = newId();

  /**
   * @param {string} url the server's origin, for example "ws://127.0.0.1:5000"
   * @param {{ roomId: string, path?: string, query?: Record<string, string>, auth?: object, id?: string, socketOptions?: object }} options
   */
  constructor(url, { roomId, path = "/collaboration/", query = {}, auth, id, socketOptions = {} }) {
    if (id !== undefined) this.#id = id; // tests only: two connections presenting one id
    this.roomId = roomId;
    this.socket = io(url, { path, transports: ["websocket"], query: { ...query, id: this.#id, roomId }, auth, ...socketOptions });
    this.socket.on("connect", () => this.#emit("connect"));
    // The third argument, the frame's compressed flag, is for the tests: the original client does not pass it on.
    this.socket.on("m", ([type, data, compressed]) => this.#emit("message", decompress(data, compressed), type, compressed));
    this.socket.on("message_error", (message) => this.#emit("error", new Error(message)));
    // A refusal by the server (CONNECT_ERROR) ends the socket; a failed reconnection attempt is reported once, below.
    this.socket.on("connect_error", (error) => { if (!this.socket.active) this.#emit("error", error); });
    this.socket.on("disconnect", (reason) => this.#emit("disconnect", REASONS[reason] ?? DisconnectReason.TRANSPORT_ERROR, reason));
    this.socket.io.on("reconnect_attempt", (attempts) => this.#emit("reconnectAttempts", attempts));
    this.socket.io.on("reconnect_error", (error) => this.#emit("error", error));
    this.socket.io.on("reconnect", (attempts) => this.#emit("reconnect", attempts));
    this.socket.io.on("reconnect_failed", () => this.#emit("reconnectFailed"));
  }

  /** The id the server knows this connection by; undefined while disconnected, as on the seed page. */
  get id() { return this.socket.connected ? this.#id : undefined; }

  get connected() { return this.socket.connected; }

  /** Sends while connected; while disconnected Socket.IO buffers it and sends it after the next connect. */
  send(data, type) {
    const [payload, compressed] = compress(data);
    this.socket.emit("m", [type ?? null, payload, compressed]);
  }

  close() { this.socket.disconnect(); }

  on(name, handler) {
    if (!this.#handlers.has(name)) this.#handlers.set(name, new Set());
    this.#handlers.get(name).add(handler);
    return this;
  }

  once(name, handler) {
    const wrapper = (...args) => { this.off(name, wrapper); handler(...args); };
    return this.on(name, wrapper);
  }

  off(name, handler) {
    this.#handlers.get(name)?.delete(handler);
    return this;
  }

  #emit(name, ...args) {
    for (const handler of [...(this.#handlers.get(name) ?? [])]) handler(...args);
  }
}
