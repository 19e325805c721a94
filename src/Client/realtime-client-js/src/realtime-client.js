// @ts-check
// The Realtime browser client: protocol v1 over one WebSocket, with the Client / Connection API of the
// original JavaScript collaboration framework. No dependencies; this file is what a browser loads.

/** Why a connection ended; the numbers match the server's DisconnectReason and the original client's. */
export const DisconnectReason = Object.freeze({
  CLIENT_DISCONNECT: 0,
  SERVER_DISCONNECT: 1,
  PING_TIMEOUT: 2,
  TRANSPORT_CLOSE: 3,
  TRANSPORT_ERROR: 4,
});

const EVENTS = ["connect", "message", "disconnect", "error", "reconnectAttempts", "reconnect", "reconnectFailed"];
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
/** The close code this client sends when the server broke the protocol (a browser may not send 1002 or 1007). */
const PROTOCOL_VIOLATION = 4400;

/** @param {number} ms @param {() => void} fn */
const after = (ms, fn) => setTimeout(fn, ms);

/**
 * The delay before reconnection attempt `attempt` (from 0): min(delay·2ⁿ, max), jittered by ±factor.
 * @param {number} attempt @param {Required<import("../index.js").ClientOptions>} o
 */
function backoff(attempt, o) {
  const capped = Math.min(o.reconnectionDelay * 2 ** Math.min(attempt, 62), o.reconnectionDelayMax);
  const f = Math.min(Math.max(o.randomizationFactor, 0), 1);
  return Math.max(0, capped * (1 + f * (2 * Math.random() - 1)));
}

/** The listeners of one object (a connection or a presence), by event name; unknown names are refused. */
class Listeners {
  /** @type {Map<string, Array<{ fn: Function, once: boolean }>>} */
  #map = new Map();
  #names;
  #owner;

  /** @param {readonly string[]} names the events there are @param {object} owner `this` in the listeners */
  constructor(names, owner) {
    this.#names = names;
    this.#owner = owner;
  }

  /** @template {Function} F @param {string} name @param {F} fn @param {boolean} once @returns {F} */
  add(name, fn, once) {
    if (!this.#names.includes(name)) throw new TypeError(`Unknown event "${name}"; the events are ${this.#names.join(", ")}`);
    if (typeof fn !== "function") throw new TypeError("A listener must be a function");
    const list = this.#map.get(name) ?? [];
    list.push({ fn, once });
    this.#map.set(name, list);
    return fn;
  }

  /** @param {string} name @param {Function} fn */
  remove(name, fn) {
    const list = this.#map.get(name);
    const i = list?.findIndex((l) => l.fn === fn) ?? -1;
    if (list && i >= 0) list.splice(i, 1);
  }

  clear() { this.#map.clear(); }

  /** @param {string} name @param {unknown[]} args */
  emit(name, args) {
    const list = this.#map.get(name);
    if (!list) return;
    for (const l of [...list]) {
      if (l.once) this.remove(name, l.fn);
      try {
        l.fn.apply(this.#owner, args);
      } catch (e) {
        // A throwing handler breaks neither the connection nor the other handlers.
        if (typeof globalThis.reportError === "function") globalThis.reportError(e);
        else console.error(e);
      }
    }
  }
}

/** A server of Realtime, addressed by its origin; `connect` opens connections to its rooms. */
export class Client {
  /**
   * @param {string | URL} [url] The server; defaults to the page's origin (http → ws, https → wss).
   * @param {import("../index.js").ClientOptions} [options]
   */
  constructor(url, options = {}) {
    const base = url ?? globalThis.location?.origin;
    if (base === undefined) throw new TypeError("Client: a url is required where there is no page (new Client(\"ws://host:port\"))");
    const u = new URL(base, globalThis.location?.href);
    if (u.protocol === "http:") u.protocol = "ws:";
    else if (u.protocol === "https:") u.protocol = "wss:";
    else if (u.protocol !== "ws:" && u.protocol !== "wss:") throw new TypeError(`Client: unsupported scheme ${u.protocol}`);
    /** The server's WebSocket origin, for example `ws://localhost:5000`. */
    this.url = `${u.protocol}//${u.host}`;
    /** @type {Required<import("../index.js").ClientOptions>} */
    this.options = {
      path: "/realtime",
      reconnection: true,
      reconnectionAttempts: Infinity,
      reconnectionDelay: 1000,
      reconnectionDelayMax: 5000,
      randomizationFactor: 0.5,
      timeout: 20000,
      maxBufferedMessages: 1000,
      WebSocket: globalThis.WebSocket,
      ...options,
    };
    if (typeof this.options.WebSocket !== "function") throw new TypeError("Client: no WebSocket here; pass options.WebSocket (on Node.js 20, run with --experimental-websocket)");
  }

  /**
   * Opens a connection to a room and returns it at once; it connects in the background.
   * @param {string} roomId
   * @param {import("../index.js").ConnectOptions} [options]
   */
  connect(roomId, options = {}) {
    if (typeof roomId !== "string" || roomId.length === 0) throw new TypeError("connect: roomId must be a non-empty string");
    return new Connection(this, roomId, options);
  }
}

/**
 * One connection to a room: reconnects with backoff, buffers sends while offline, raises events, and on a reconnection
 * offers the previous connection's resume token and last room position, so a room that keeps history replays what it missed.
 */
export class Connection {
  #listeners = new Listeners(EVENTS, this);
  /** @type {Array<string | ArrayBuffer | ArrayBufferView>} */
  #buffer = [];
  /** @type {WebSocket | null} */
  #ws = null;
  /** @type {string | undefined} */
  #id;
  #connected = false;
  #closed = false;
  #retrying = false;
  #attempt = 0;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  #timer;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  #watchdog;
  #watchdogMs = 0;
  #lastPing = 0;
  /** @type {Client} */
  #client;
  /** @type {import("../index.js").ConnectOptions} */
  #options;
  /** @type {(() => void) | undefined} */
  #unlisten;
  /** The text of the current attempt's `reject` frame, reported when its close 4002 arrives. @type {string | undefined} */
  #rejection;
  /** The resume token of the last `welcome` (none when its room keeps no history); offered by the next attempt. @type {string | undefined} */
  #resume;
  /** The last room position received: the `welcome`'s, then each message's. @type {string | undefined} */
  #pos;
  /** Whether the current attempt's `hello` offered a token. */
  #offered = false;
  #recovered = false;

  /** @param {Client} client @param {string} roomId @param {import("../index.js").ConnectOptions} options */
  constructor(client, roomId, options) {
    this.#client = client;
    this.#options = options;
    /** The room this connection belongs to. */
    this.roomId = roomId;
    this.#listenToPage();
    queueMicrotask(() => this.#open());
  }

  /** The server-assigned 20-character id while connected; `undefined` otherwise. A reconnection gets a new one. */
  get id() { return this.#id; }

  /** Whether the connection is connected now. */
  get connected() { return this.#connected; }

  /**
   * Whether the last (re)connection recovered: the server replays every room broadcast missed since the previous connection,
   * right after `welcome`, before anything newer. Set with `id`, before `reconnect` and `connect`; false on a first connection.
   */
  get recovered() { return this.#recovered; }

  /**
   * Sends a message to the server. Any JSON value is sent as text; an ArrayBuffer, typed array or DataView as binary.
   * While offline it waits in a bounded buffer, sent after the next connect. `trace` adds a W3C trace context to a text
   * frame (protocol.md §2.1); a binary frame has no room for it.
   * @param {unknown} data @param {string | null} [type] @param {import("../index.js").TraceContext} [trace]
   */
  send(data, type, trace) {
    if (this.#closed) throw new Error("The connection is closed");
    // "" is a type of its own (only null and undefined are none), at most 255 bytes of UTF-8 like any other.
    const t = type == null ? null : encoder.encode(type);
    if (t && t.length > 255) throw new RangeError("A message type is at most 255 bytes of UTF-8");
    /** @type {string | Uint8Array} */
    let frame;
    if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) {
      if (t && t.length === 0) throw new RangeError('A binary message cannot have the type "": a binary frame\'s typeLength 0 means no type (use null, or text data)');
      const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      frame = new Uint8Array(2 + (t?.length ?? 0) + bytes.length);
      frame[0] = 1;
      frame[1] = t?.length ?? 0;
      if (t) frame.set(t, 2);
      frame.set(bytes, 2 + frame[1]);
    } else {
      const traceparent = trace?.traceparent || undefined;
      frame = JSON.stringify({ t: "msg", type: type ?? undefined, data, traceparent, tracestate: traceparent && (trace?.tracestate || undefined) });
    }
    if (this.#connected && this.#ws) {
      this.#ws.send(frame);
    } else if (this.#buffer.length >= this.#client.options.maxBufferedMessages) {
      throw new Error(`The send buffer is full (${this.#client.options.maxBufferedMessages} messages, maxBufferedMessages); the message was not sent`);
    } else {
      this.#buffer.push(frame);
    }
  }

  /** Closes the connection for good: raises `disconnect` (CLIENT_DISCONNECT) if connected, and never reconnects. */
  close() {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#unlisten?.();
    this.#buffer = [];
    this.#resume = undefined;
    const ws = this.#ws;
    this.#detach(1000, "client closed");
    if (ws && this.#connected) this.#disconnected(DisconnectReason.CLIENT_DISCONNECT);
  }

  /** Closes the connection and removes every listener. */
  destroy() {
    this.close();
    this.#listeners.clear();
  }

  /**
   * Adds a listener; returns it.
   * @template {Function} F
   * @param {string} name @param {F} handler @returns {F}
   */
  on(name, handler) { return this.#listeners.add(name, handler, false); }

  /**
   * Adds a listener removed after its first call; returns it.
   * @template {Function} F
   * @param {string} name @param {F} handler @returns {F}
   */
  once(name, handler) { return this.#listeners.add(name, handler, true); }

  /**
   * Removes a listener added with `on` or `once`.
   * @param {string} name @param {Function} handler
   */
  off(name, handler) {
    this.#listeners.remove(name, handler);
    return this;
  }

  /** @param {string} name @param {...unknown} args */
  #emit(name, ...args) { this.#listeners.emit(name, args); }

  #open() {
    if (this.#closed) return;
    const o = this.#client.options;
    const url = new URL(o.path, this.#client.url);
    url.searchParams.set("roomId", this.roomId);
    for (const [k, v] of Object.entries(this.#options.query ?? {})) if (k !== "roomId") url.searchParams.append(k, String(v));
    /** @type {WebSocket} */
    let ws;
    try {
      ws = new o.WebSocket(url.href, "realtime.v1");
    } catch (e) {
      this.#failed(new Error(`Could not connect to ${url.origin}: ${e instanceof Error ? e.message : e}`));
      return;
    }
    ws.binaryType = "arraybuffer";
    this.#ws = ws;
    this.#rejection = undefined;
    // auth is evaluated anew for every attempt, alongside the upgrade; its failure is reported once the upgrade is over.
    const auth = this.#options.auth;
    const hello = Promise.resolve().then(() => (typeof auth === "function" ? auth() : auth));
    hello.catch(() => {});
    this.#timer = after(o.timeout, () => this.#handshakeFailed(ws, new Error(`The connection attempt timed out after ${o.timeout} ms (timeout)`)));
    ws.onopen = () => {
      hello.then(
        (a) => {
          if (this.#ws !== ws) return;
          // Always ready for room positions; after a drop, offer the previous connection's token and last position.
          const resume = this.#resume;
          this.#offered = resume !== undefined;
          ws.send(JSON.stringify({ t: "hello", auth: a, recover: true, resume, pos: resume && this.#pos }));
        },
        (e) => this.#handshakeFailed(ws, new Error(`auth failed: ${e instanceof Error ? e.message : e}`)),
      );
    };
    ws.onmessage = (e) => {
      if (typeof e.data === "string") this.#onText(ws, e.data);
      else this.#onBinary(ws, e.data);
    };
    ws.onerror = () => {};
    ws.onclose = (e) => {
      if (this.#ws !== ws) return;
      if (!this.#connected) {
        const rejected = e.code === 4002;
        this.#handshakeFailed(ws, new Error(rejected ? this.#rejection ?? (e.reason || "Connection rejected") : `Could not connect to ${url.origin} (close code ${e.code})`), rejected);
        return;
      }
      this.#detach();
      const c = e.code;
      const reason = c === 4000 ? DisconnectReason.SERVER_DISCONNECT
        : c === 4001 ? DisconnectReason.PING_TIMEOUT
          : c === 1000 || c === 1001 || c === 1006 ? DisconnectReason.TRANSPORT_CLOSE
            : DisconnectReason.TRANSPORT_ERROR;
      this.#disconnected(reason);
    };
  }

  /** @param {WebSocket} ws @param {string} text */
  #onText(ws, text) {
    let f;
    try {
      f = JSON.parse(text);
    } catch {
      f = null;
    }
    if (!f || typeof f !== "object" || typeof f.t !== "string") return this.#violation(ws, "a text frame that is not a frame");
    switch (f.t) {
      case "welcome":
        if (!this.#connected) this.#welcome(ws, f);
        break;
      case "reject":
        this.#rejection = String(f.message ?? "");
        break;
      case "msg":
        if (!this.#connected) break;
        if (f.pos && typeof f.pos === "string") this.#pos = f.pos;
        this.#emit("message", f.data === undefined ? null : f.data, typeof f.type === "string" ? f.type : null);
        break;
      case "error":
        this.#emit("error", new Error(String(f.message ?? "")));
        break;
      case "ping":
        ws.send('{"t":"pong"}');
        this.#lastPing = Date.now();
        this.#armWatchdog(ws);
        break;
      default:
        // Frame kinds a client does not know are ignored.
    }
  }

  /**
   * `[1][typeLength][type][payload]`, or a room broadcast with its position: `[2][posLength][pos][typeLength][type][payload]`.
   * @param {WebSocket} ws @param {ArrayBuffer} data
   */
  #onBinary(ws, data) {
    const bytes = new Uint8Array(data);
    const at = bytes[0] === 2 ? 2 + (bytes[1] ?? 0) : 1; // where typeLength is
    const start = at + 1 + bytes[at];
    if ((bytes[0] !== 1 && bytes[0] !== 2) || bytes.length <= at || bytes.length < start) return this.#violation(ws, "a malformed binary frame");
    let type, pos;
    try {
      type = decoder.decode(bytes.subarray(at + 1, start));
      pos = decoder.decode(bytes.subarray(2, at));
    } catch {
      return this.#violation(ws, "a binary type or position that is not UTF-8");
    }
    if (!this.#connected) return;
    if (pos) this.#pos = pos;
    this.#emit("message", data.slice(start), bytes[at] === 0 ? null : type);
  }

  /** @param {WebSocket} ws @param {string} what */
  #violation(ws, what) {
    if (this.#ws !== ws) return;
    if (!this.#connected) return this.#handshakeFailed(ws, new Error(`The server broke the protocol: ${what}`));
    this.#detach(PROTOCOL_VIOLATION, "protocol violation");
    this.#disconnected(DisconnectReason.TRANSPORT_ERROR);
  }

  /** @param {WebSocket} ws @param {{ id: string, pingInterval: number, pingTimeout: number, resume?: unknown, pos?: unknown, recovered?: unknown }} f */
  #welcome(ws, f) {
    clearTimeout(this.#timer);
    this.#id = f.id;
    this.#connected = true;
    // A token is used once: this welcome's (none when the room keeps no history) replaces the one offered.
    this.#resume = f.resume && typeof f.resume === "string" ? f.resume : undefined;
    this.#pos = f.pos && typeof f.pos === "string" ? f.pos : undefined;
    this.#recovered = this.#offered && f.recovered === true;
    this.#watchdogMs = Number(f.pingInterval) + Number(f.pingTimeout);
    this.#lastPing = Date.now();
    this.#armWatchdog(ws);
    const pending = this.#buffer;
    this.#buffer = [];
    for (const frame of pending) ws.send(frame);
    const attempts = this.#attempt;
    const retried = this.#retrying;
    this.#attempt = 0;
    this.#retrying = false;
    if (retried) this.#emit("reconnect", attempts);
    if (this.#ws === ws) this.#emit("connect");
  }

  /** @param {WebSocket} ws */
  #armWatchdog(ws) {
    clearTimeout(this.#watchdog);
    this.#watchdog = after(this.#watchdogMs, () => this.#pingTimeout(ws));
  }

  /** @param {WebSocket} ws */
  #pingTimeout(ws) {
    if (this.#ws !== ws || !this.#connected) return;
    this.#detach(4001, "ping timeout");
    this.#disconnected(DisconnectReason.PING_TIMEOUT);
  }

  /** Fails a connection attempt: one `error`, then a retry (or nothing more after a rejection).
   * @param {WebSocket} ws @param {Error} error @param {boolean} [final] */
  #handshakeFailed(ws, error, final = false) {
    if (this.#ws !== ws) return;
    this.#detach(1000, "connection attempt failed");
    if (final) this.#closed = true;
    this.#failed(error);
  }

  /** @param {Error} error */
  #failed(error) {
    this.#emit("error", error);
    if (this.#closed) {
      this.#unlisten?.();
      return;
    }
    if (!this.#client.options.reconnection) {
      this.close();
      return;
    }
    this.#retry();
  }

  /** Drops the current socket (closing it with `code` if given) and stops its timers. @param {number} [code] @param {string} [reason] */
  #detach(code, reason) {
    const ws = this.#ws;
    this.#ws = null;
    clearTimeout(this.#timer);
    clearTimeout(this.#watchdog);
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = null;
    if (code !== undefined && ws.readyState <= 1) {
      try {
        ws.close(code, reason);
      } catch {
        // Closing a socket that is already going away.
      }
    }
  }

  /** @param {number} reason @param {boolean} [reconnect] */
  #disconnected(reason, reconnect = reason !== DisconnectReason.CLIENT_DISCONNECT && reason !== DisconnectReason.SERVER_DISCONNECT) {
    this.#id = undefined;
    this.#connected = false;
    if (!reconnect || !this.#client.options.reconnection) this.#closed = true;
    this.#emit("disconnect", reason);
    if (this.#closed) this.#unlisten?.();
    else this.#retry();
  }

  #retry() {
    const o = this.#client.options;
    if (this.#closed) return;
    if (this.#attempt >= o.reconnectionAttempts) {
      this.#closed = true;
      this.#unlisten?.();
      this.#emit("reconnectFailed");
      return;
    }
    this.#retrying = true;
    clearTimeout(this.#timer);
    this.#timer = after(backoff(this.#attempt, o), () => this.#reconnectNow());
  }

  #reconnectNow() {
    if (this.#closed || this.#ws) return;
    clearTimeout(this.#timer);
    this.#attempt++;
    this.#emit("reconnectAttempts", this.#attempt);
    this.#open();
  }

  /** In a page: reconnect at once when the network or a hidden tab comes back, close cleanly when the page goes away. */
  #listenToPage() {
    const w = globalThis.window;
    const d = globalThis.document;
    if (!w?.addEventListener || !d) return;
    const wake = () => {
      if (d.visibilityState === "hidden" || this.#closed) return;
      if (this.#connected && Date.now() - this.#lastPing > this.#watchdogMs && this.#ws) this.#pingTimeout(this.#ws);
      else if (!this.#ws && this.#retrying) this.#reconnectNow();
    };
    const hide = (/** @type {PageTransitionEvent} */ e) => {
      if (e.persisted) {
        // Into the back/forward cache: let go of the socket now, connect again when the page is shown.
        if (this.#ws && this.#connected) {
          this.#detach(1000, "page hidden");
          this.#disconnected(DisconnectReason.CLIENT_DISCONNECT, true);
        }
      } else {
        this.close();
      }
    };
    const show = (/** @type {PageTransitionEvent} */ e) => e.persisted && wake();
    w.addEventListener("online", wake);
    d.addEventListener("visibilitychange", wake);
    w.addEventListener("pagehide", hide);
    w.addEventListener("pageshow", show);
    this.#unlisten = () => {
      w.removeEventListener("online", wake);
      d.removeEventListener("visibilitychange", wake);
      w.removeEventListener("pagehide", hide);
      w.removeEventListener("pageshow", show);
    };
  }
}

const PRESENCE_EVENTS = ["add", "update", "remove"];
/** Field names a field update never sets, on the server or here: they would reach an object's prototype. */
const UNSAFE_KEYS = ["__proto__", "constructor", "prototype"];
/** @param {unknown} v @returns {v is Record<string, unknown>} */
const isObject = (v) => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Each connection's state in a room (a cursor, a selection, a name), kept by the server's presence feature and
 * shared with the room's subscribers: the `Presence` of the original framework's presence client, on message type
 * "presence" whose data is a JSON string holding `{a: …}`.
 * @template [P=any]
 */
export class Presence {
  #listeners = new Listeners(PRESENCE_EVENTS, this);
  #connection;
  /** @type {P | undefined} */
  #local;
  /** @type {Record<string, P>} */
  #others = {};
  #subscribed = false;
  #destroyed = false;
  /** Whether the restore's own subscribe is unanswered: its answer reports what changed during the outage. */
  #restoring = false;
  /** What was handed to the connection while it was offline: its buffer carries it to the next connection already. */
  #queued = { s: false, d: false };
  /** @type {Array<{ resolve: () => void, reject: (e: Error) => void }>} */
  #waiting = [];
  /** @type {Array<[string, Function]>} */
  #hooks;

  /**
   * @param {Connection} connection
   * @param {import("../index.js").PresenceOptions} [options]
   */
  constructor(connection, options = {}) {
    this.#connection = connection;
    this.#hooks = [["message", (/** @type {unknown} */ data, /** @type {string | null} */ type) => type === "presence" && typeof data === "string" && this.#receive(data)]];
    // `reconnect` comes after the offline buffer went out and before the application's `connect` handlers run.
    if (options.restoreOnReconnect) this.#hooks.push(["reconnect", () => this.#restore()], ["connect", () => (this.#queued = { s: false, d: false })]);
    for (const [name, fn] of this.#hooks) connection.on(name, fn);
  }

  /** The connection it works on. */
  get connection() { return this.#connection; }

  /** The connection's id, under which the others know this presence; `undefined` while disconnected. */
  get id() { return this.#connection.id; }

  /** This connection's state as last submitted (or as the server's subscribe answer had it); `undefined` until then. */
  get localState() { return this.#local; }

  /** The other connections' states, by connection id. */
  get otherStates() { return this.#others; }

  /**
   * Subscribes to the room's states: the server answers with all of them, which replace `otherStates` (the entry under
   * this connection's id becomes `localState`), and then sends every change. Resolves once that answer is in.
   * @returns {Promise<void>}
   */
  subscribe() {
    return new Promise((resolve, reject) => {
      this.#send({ a: "s" });
      this.#subscribed = true;
      this.#waiting.push({ resolve, reject });
    });
  }

  /** Sets this connection's state and sends it; the others get `add` (their first sight of it) or `update`. @param {P} state */
  submitLocalState(state) {
    this.#send({ a: "d", presence: state });
    this.#local = state;
  }

  /**
   * Sets one field of this connection's state and sends only that field. Applied (here as on the server) only to a
   * state that is an object, and never to `__proto__`, `constructor` or `prototype`.
   * @param {string} key @param {unknown} value
   */
  submitLocalStateField(key, value) {
    this.#send({ a: "df", fieldUpdate: { k: key, v: value } });
    const local = this.#local;
    if (isObject(local) && typeof key === "string" && !UNSAFE_KEYS.includes(key)) this.#local = /** @type {P} */ ({ ...local, [key]: value });
  }

  /** Removes this connection's state; the others get `remove`. */
  removeLocalState() {
    this.#send({ a: "r" });
    this.#local = undefined;
  }

  /** Stops listening to the connection and removes every listener; an unanswered `subscribe()` rejects. Sends nothing. */
  destroy() {
    if (this.#destroyed) return;
    this.#destroyed = true;
    for (const [name, fn] of this.#hooks) this.#connection.off(name, fn);
    this.#listeners.clear();
    for (const w of this.#waiting.splice(0)) w.reject(new Error("The presence was destroyed"));
  }

  /**
   * Adds a listener of `add`, `update` or `remove`; returns it.
   * @template {Function} F
   * @param {string} name @param {F} handler @returns {F}
   */
  on(name, handler) { return this.#listeners.add(name, handler, false); }

  /**
   * Adds a listener removed after its first call; returns it.
   * @template {Function} F
   * @param {string} name @param {F} handler @returns {F}
   */
  once(name, handler) { return this.#listeners.add(name, handler, true); }

  /**
   * Removes a listener added with `on` or `once`.
   * @param {string} name @param {Function} handler
   */
  off(name, handler) {
    this.#listeners.remove(name, handler);
    return this;
  }

  /** @param {{ a: string, [k: string]: unknown }} request */
  #send(request) {
    if (this.#destroyed) throw new Error("The presence was destroyed");
    this.#connection.send(JSON.stringify(request), "presence");
    if (!this.#connection.connected) {
      if (request.a === "s") this.#queued.s = true;
      if (request.a === "d") this.#queued.d = true;
    }
  }

  /** Beyond the original (restoreOnReconnect): after a reconnection, subscribe again and submit the state again. */
  #restore() {
    const queued = this.#queued;
    if (this.#subscribed && !queued.s) {
      this.#restoring = true;
      this.#send({ a: "s" });
    }
    if (this.#local !== undefined && !queued.d) this.#send({ a: "d", presence: this.#local });
  }

  /** @param {string} text */
  #receive(text) {
    let m;
    try {
      m = JSON.parse(text);
    } catch {
      return;
    }
    if (!isObject(m)) return;
    const others = this.#others;
    /** @param {unknown} v @returns {Record<string, P>} */
    const states = (v) => (isObject(v) ? /** @type {Record<string, P>} */ (v) : {});
    /** @param {Record<string, P>} map */
    const store = (map) => {
      /** @type {Record<string, P>} */
      const got = {};
      for (const [id, state] of Object.entries(map)) if (id !== "__proto__") others[id] = got[id] = state;
      return got;
    };
    switch (m.a) {
      case "s": {
        const all = states(m.presences);
        const before = this.#others;
        /** @type {Record<string, P>} */
        const next = {};
        for (const [id, state] of Object.entries(all)) {
          if (id === this.id) this.#local = state;
          else if (id !== "__proto__") next[id] = state;
        }
        this.#others = next;
        if (this.#restoring) {
          this.#restoring = false;
          this.#changes(before, next);
        }
        for (const w of this.#waiting.splice(0)) w.resolve();
        break;
      }
      case "a":
      case "d":
        this.#emit(m.a === "a" ? "add" : "update", store(states(m.presences)));
        break;
      case "df": {
        /** @type {Record<string, P>} */
        const merged = {};
        for (const [id, u] of Object.entries(states(m.fieldUpdates))) {
          const held = others[id];
          const f = /** @type {{ k?: unknown, v?: unknown }} */ (u);
          if (Object.hasOwn(others, id) && isObject(held) && isObject(f) && typeof f.k === "string" && !UNSAFE_KEYS.includes(f.k)) merged[id] = /** @type {P} */ ({ ...held, [f.k]: f.v });
        }
        if (Object.keys(merged).length) this.#emit("update", store(merged));
        break;
      }
      case "r": {
        const ids = Array.isArray(m.presencesIds) ? m.presencesIds.filter((id) => typeof id === "string") : [];
        for (const id of ids) delete others[id];
        this.#emit("remove", ids);
        break;
      }
      default:
        // Actions a client does not know are ignored.
    }
  }

  /** Reports the difference between two sets of states as `remove`, `add` and `update`. @param {Record<string, P>} before @param {Record<string, P>} after */
  #changes(before, after) {
    const gone = Object.keys(before).filter((id) => !Object.hasOwn(after, id));
    /** @type {Record<string, P>} */
    const added = {};
    /** @type {Record<string, P>} */
    const changed = {};
    for (const [id, state] of Object.entries(after)) {
      if (!Object.hasOwn(before, id)) added[id] = state;
      else if (JSON.stringify(before[id]) !== JSON.stringify(state)) changed[id] = state;
    }
    if (gone.length) this.#emit("remove", gone);
    if (Object.keys(added).length) this.#emit("add", added);
    if (Object.keys(changed).length) this.#emit("update", changed);
  }

  /** @param {string} name @param {unknown} arg */
  #emit(name, arg) { this.#listeners.emit(name, [arg]); }
}

const DOC_EVENTS = ["beforeOp", "op", "create", "del", "load", "error", "hardRollback", "restore"];
/** @typedef {import("../index.js").OTType} OTType */
/** @type {Map<string, OTType>} */
const types = new Map();

/** The OT types a {@link SharedDoc} knows, by name and by URI: register the same types as the server. */
export const TypesManager = Object.freeze({
  /** Registers a type of the common OT interface (ot-json0's `type`, ot-text-unicode's `type`, …) under its name and URI. @param {OTType} type */
  register(type) {
    if (!type || typeof type.apply !== "function" || typeof type.name !== "string") throw new TypeError("An OT type has a name and apply, transform and create functions");
    types.set(type.name, type);
    if (type.uri) types.set(type.uri, type);
  },
  /** The type registered under `nameOrUri`, or `undefined`. @param {string} nameOrUri */
  get: (nameOrUri) => types.get(nameOrUri),
});

/**
 * The last `seq` of each connection's document ops: the server takes an op with the `src` (connection id) and `seq` of one
 * it committed for a resend, so every `SharedDoc` on a connection numbers from one counter.
 * @type {WeakMap<Connection, number>}
 */
const seqs = new WeakMap();

/** An error of a document request: the server's `{code, message}`, or one of the client's own (codes from 4000). */
export class OTError extends Error {
  /** @param {number} code @param {string} message */
  constructor(code, message) {
    super(message);
    this.name = "OTError";
    this.code = code;
  }
}

/**
 * One submitted change waiting for its ack: an `op`, `create`, `del` or `restore`, with the seq (and after its first send
 * the src) that match its ack, and the callers waiting for it.
 * @typedef {{ op?: unknown, create?: { type: string, data: unknown }, del?: true, restore?: { v: number, data: unknown },
 *   src?: string, seq?: number, source: unknown, done: Array<{ resolve: (v?: any) => void, reject: (e: Error) => void }> }} Submit
 */

/**
 * The room's shared document: operational transformation over the connection (message type "ot-doc"), with the API and
 * the wire of the original framework's `SharedDoc`. One op is in flight at a time; later ones wait, composed into one.
 * @template [S=any] @template [T=any]
 */
export class SharedDoc {
  #listeners = new Listeners(DOC_EVENTS, this);
  #connection;
  /** @type {number | undefined} */
  #version;
  /** @type {OTType | undefined} */
  #type;
  /** @type {S | undefined} */
  #data;
  /** @type {Submit | null} */
  #inflight = null;
  /** @type {Submit[]} */
  #pending = [];
  /** Whether the application asked for the op stream; it is asked for again after every reconnection. */
  #wantSubscribe = false;
  #subscribed = false;
  /** @type {Array<{ resolve: (v?: any) => void, reject: (e: Error) => void }>} */
  #fetching = [];
  #fetchSent = false;
  /** The version of the latest op seen above the version held (a gap); a fetch reply that leaves it unapplied fetches again. */
  #ahead = -1;
  /** @type {Array<{ resolve: (v?: any) => void, reject: (e: Error) => void }>} */
  #subscribing = [];
  #subscribeSent = false;
  /** @type {Map<string, { v: number, resolve: (s: any) => void, reject: (e: Error) => void }>} */
  #history = new Map();
  #destroyed = false;
  /** @type {Array<[string, Function]>} */
  #hooks;

  /** @param {Connection} connection */
  constructor(connection) {
    this.#connection = connection;
    this.#hooks = [
      ["message", (/** @type {any} */ data, /** @type {string | null} */ type) => type === "ot-doc" && data && typeof data === "object" && this.#receive(data)],
      ["connect", () => this.#resume()],
      ["disconnect", () => this.#paused()],
    ];
    for (const [name, fn] of this.#hooks) connection.on(name, fn);
  }

  /** The document's id: the room's. */
  get id() { return this.#connection.roomId; }
  get connection() { return this.#connection; }
  /** The version of `data`; `undefined` until loaded. */
  get version() { return this.#version; }
  /** The document's OT type; `undefined` while it does not exist. */
  get type() { return this.#type; }
  /** The document's content; `undefined` while it does not exist. */
  get data() { return this.#data; }
  /** Whether the server streams this document's ops to it now. */
  get subscribed() { return this.#subscribed; }

  /** Loads the document (or brings it up to date). @returns {Promise<void>} */
  fetch() {
    return new Promise((resolve, reject) => {
      this.#check();
      this.#fetching.push({ resolve, reject });
      this.#sendFetch();
    });
  }

  /** Loads the document and receives every op committed after it; kept through reconnections. @returns {Promise<void>} */
  subscribe() {
    return new Promise((resolve, reject) => {
      this.#check();
      this.#wantSubscribe = true;
      if (this.#subscribed) return resolve();
      this.#subscribing.push({ resolve, reject });
      this.#sendSubscribe();
    });
  }

  /**
   * Creates the document with the type `type` (a registered name or URI, or a type object) and `type.create(data)`.
   * @param {unknown} data @param {string | OTType} [type] @param {{ source?: unknown }} [options] @returns {Promise<void>}
   */
  create(data, type = "json0", options = {}) {
    return this.#submit(() => {
      if (this.#type) throw new OTError(4016, "Document already exists");
      const t = typeof type === "string" ? types.get(type) : type;
      if (!t) throw new OTError(4008, `Unknown type ${type}`);
      const source = options.source ?? true;
      this.#data = t.create(clone(data));
      this.#type = t;
      this.#emit("create", source);
      return { create: { type: typeof type === "string" ? type : t.uri ?? t.name, data }, source, done: [] };
    });
  }

  /** Deletes the document; the server erases it with its history. @param {{ source?: unknown }} [options] @returns {Promise<void>} */
  del(options = {}) {
    return this.#submit(() => {
      if (!this.#type) throw new OTError(4015, "Document does not exist");
      const source = options.source ?? true;
      const data = this.#data;
      this.#type = this.#data = undefined;
      this.#emit("del", data, source);
      return { del: true, source, done: [] };
    });
  }

  /**
   * Applies `op` at once and sends it; the promise settles with its ack. A refused op is rolled back (by `type.invert`);
   * code 19 does that silently and resolves.
   * @param {T} op @param {{ source?: unknown }} [options] @returns {Promise<void>}
   */
  submitOp(op, options = {}) {
    return this.#submit(() => {
      const t = this.#type;
      if (!t) throw new OTError(4015, "Cannot submit an op: the document does not exist");
      const source = options.source ?? true;
      if (t.normalize) op = t.normalize(op);
      try {
        this.#apply(op, source);
      } catch (e) {
        this.#failed(/** @type {OTError} */ (e));
        throw e;
      }
      const last = this.#pending.at(-1);
      // Ops wait composed while one is in flight; a sent op (src set) is never changed again.
      if (t.compose && last && "op" in last && !last.src) {
        last.op = t.compose(last.op, op);
        return last;
      }
      return { op, source, done: [] };
    });
  }

  /**
   * The document as it was at `version` (`{id, v, type, data}`, `type` being the URI); neither fetch nor subscribe is needed.
   * @param {{ version: number }} options @returns {Promise<import("../index.js").Snapshot<S>>}
   */
  fetchHistorySnapshot({ version }) {
    return new Promise((resolve, reject) => {
      this.#check();
      const id = Math.random().toString(36).slice(2, 10).padEnd(8, "0");
      this.#history.set(id, { v: version, resolve, reject });
      if (this.#connection.connected) this.#send({ a: 2, id, v: version });
    });
  }

  /**
   * Makes the document what it was at `version` (a new version, history kept): fetches that snapshot, then submits it.
   * @param {number} version @param {{ source?: unknown }} [options] @returns {Promise<void>}
   */
  async restore(version, options = {}) {
    const { data } = await this.fetchHistorySnapshot({ version });
    return this.#submit(() => {
      const t = this.#type;
      if (!t) throw new OTError(4015, "Document does not exist");
      const source = options.source ?? true;
      this.#data = t.create(clone(data));
      this.#emit("restore", version, source);
      return { restore: { v: version, data }, source, done: [] };
    });
  }

  /**
   * Drops every local change not yet acknowledged and loads the document again from the server (subscribing again if it
   * was subscribed). The waiting submits reject.
   * @returns {Promise<void>}
   */
  hardRollback() { return this.#rollback(); }

  /**
   * hardRollback(), with the `cause` when a change failed part-way: the dropped changes reject with it (else with 4017),
   * and it is raised as error. @param {OTError} [cause] @returns {Promise<void>}
   */
  #rollback(cause) {
    const error = cause ?? new OTError(4017, "Hard rollback");
    const dropped = [this.#inflight, ...this.#pending];
    this.#inflight = null;
    this.#pending = [];
    this.#version = this.#type = this.#data = undefined;
    for (const s of dropped) s?.done.forEach((d) => d.reject(error));
    this.#emit("hardRollback", cause);
    if (cause) this.#emit("error", cause);
    if (!this.#wantSubscribe) return this.fetch();
    this.#subscribed = false;
    return this.subscribe();
  }

  /** Stops listening (unsubscribing on the server), rejects what waits, and removes every listener. */
  destroy() {
    if (this.#destroyed) return;
    if (this.#subscribed && this.#connection.connected) this.#send({ a: 4 });
    this.#destroyed = true;
    for (const [name, fn] of this.#hooks) this.#connection.off(name, fn);
    const error = new OTError(4018, "The document was destroyed");
    for (const w of [...this.#fetching, ...this.#subscribing, ...this.#history.values(), ...[this.#inflight, ...this.#pending].flatMap((s) => s?.done ?? [])]) w.reject(error);
    this.#fetching = [];
    this.#subscribing = [];
    this.#history.clear();
    this.#listeners.clear();
  }

  /** @template {Function} F @param {string} name @param {F} handler @returns {F} */
  on(name, handler) { return this.#listeners.add(name, handler, false); }

  /** @template {Function} F @param {string} name @param {F} handler @returns {F} */
  once(name, handler) { return this.#listeners.add(name, handler, true); }

  /** @param {string} name @param {Function} handler */
  off(name, handler) {
    this.#listeners.remove(name, handler);
    return this;
  }

  /** @param {string} name @param {...unknown} args */
  #emit(name, ...args) { this.#listeners.emit(name, args); }

  #check() {
    if (this.#destroyed) throw new OTError(4018, "The document was destroyed");
  }

  /** @param {Record<string, unknown>} request */
  #send(request) { this.#connection.send(request, "ot-doc"); }

  /** The version a request carries: none until loaded. */
  #v() { return this.#version === undefined ? {} : { v: this.#version }; }

  #sendFetch() {
    if (this.#fetchSent || !this.#fetching.length || !this.#connection.connected) return;
    this.#fetchSent = true;
    this.#send({ a: 0, ...this.#v() });
  }

  #sendSubscribe() {
    if (this.#subscribeSent || !this.#connection.connected) return;
    this.#subscribeSent = true;
    this.#send({ a: 3, ...this.#v() });
  }

  /** Runs a local change (which throws to refuse) and queues what it returns; resolves with its ack. @param {() => Submit} change @returns {Promise<void>} */
  #submit(change) {
    return new Promise((resolve, reject) => {
      this.#check();
      const s = change();
      s.done.push({ resolve, reject });
      if (!this.#pending.includes(s)) this.#pending.push(s);
      this.#flush();
    });
  }

  /** Sends the next op when none is in flight. */
  #flush() {
    const c = this.#connection;
    if (this.#inflight || !this.#pending.length || !c.connected) return;
    const s = (this.#inflight = /** @type {Submit} */ (this.#pending.shift()));
    if (!s.seq) seqs.set(c, (s.seq = (seqs.get(c) ?? 0) + 1));
    const { op, create, del, restore, src, seq } = s;
    this.#send({ a: 5, ...this.#v(), seq, x: {}, src, op, create, del, restore });
    // A resend carries the src the server gave it the first time: the id of the connection that sent it.
    s.src ??= c.id;
  }

  #resume() {
    this.#flush();
    if (this.#wantSubscribe) this.#sendSubscribe();
    this.#sendFetch();
    for (const [id, h] of this.#history) this.#send({ a: 2, id, v: h.v });
  }

  #paused() {
    if (this.#inflight) this.#pending.unshift(this.#inflight);
    this.#inflight = null;
    this.#subscribed = this.#fetchSent = this.#subscribeSent = false;
  }

  /** @param {any} m */
  #receive(m) {
    const e = m.error ? new OTError(m.error.code, String(m.error.message)) : null;
    switch (m.a) {
      case 0:
      case 3: {
        const sub = m.a === 3;
        const waiting = sub ? this.#subscribing : this.#fetching;
        if (sub) {
          this.#subscribeSent = false;
          this.#subscribed = !e;
          this.#subscribing = [];
        } else {
          this.#fetchSent = false;
          this.#fetching = [];
        }
        if (!e && m.data) this.#ingest(m.data);
        for (const w of waiting) e ? w.reject(e) : w.resolve();
        if (e) this.#emit("error", e);
        // A fetch answered before an op seen meanwhile (above the version) was committed leaves a gap: fetch again.
        else if (!sub && /** @type {number} */ (this.#version) <= this.#ahead) this.#catchUp(-1);
        break;
      }
      case 2: {
        const h = this.#history.get(m.id);
        this.#history.delete(m.id);
        if (e) h?.reject(e);
        else h?.resolve(m.data);
        break;
      }
      case 5:
        if (e) this.#refused(e);
        else if (this.#inflight && m.src === this.#inflight.src && m.seq === this.#inflight.seq) this.#acked(m.v);
        else if ("op" in m || m.create || m.del || m.restore) this.#remote(m);
    }
  }

  /** Fetches the ops since the version held, one fetch at a time; `ahead`: the latest op seen above it. @param {number} ahead */
  #catchUp(ahead) {
    this.#ahead = ahead;
    this.#fetching.push({ resolve() {}, reject() {} });
    this.#sendFetch();
  }

  /** A whole snapshot, when nothing local waits (a create before loading keeps its own). @param {{ v: number, type?: string, data?: S }} snap */
  #ingest(snap) {
    if (this.#version !== undefined || this.#inflight || this.#pending.length) return;
    this.#version = snap.v;
    this.#type = snap.type === undefined ? undefined : types.get(snap.type);
    if (snap.type !== undefined && !this.#type) this.#emit("error", new OTError(4008, `Unknown type ${snap.type}: register it with TypesManager.register`));
    this.#data = this.#type ? snap.data : undefined;
    this.#emit("load");
  }

  /** @param {number} v */
  #acked(v) {
    const s = /** @type {Submit} */ (this.#inflight);
    this.#inflight = null;
    this.#version = v + 1;
    for (const d of s.done) d.resolve();
    this.#flush();
  }

  /** The in-flight op was refused: rolled back by its inverse where the type can, silently for code 19. @param {OTError} e */
  #refused(e) {
    const s = this.#inflight;
    if (!s) return this.#emit("error", e);
    this.#inflight = null;
    const t = this.#type;
    let inverse;
    try {
      // ot-text-unicode's invert throws for an op that is not invertible: then nothing is rolled back (as without invert).
      inverse = "op" in s && t?.invert ? t.invert(s.op) : undefined;
    } catch {}
    let failed;
    try {
      if (inverse !== undefined) {
        for (const p of this.#pending) inverse = this.#transformX(p, inverse);
        this.#apply(inverse, false);
      }
    } catch (f) {
      failed = /** @type {OTError} */ (f);
    }
    for (const d of s.done) e.code === 19 ? d.resolve() : d.reject(e);
    if (e.code !== 19) this.#emit("error", e);
    failed ? this.#failed(failed) : this.#flush();
  }

  /** An op of another connection (or one missed), at `m.v`. @param {any} m */
  #remote(m) {
    if (this.#version === undefined || m.v < this.#version) return;
    // Something was missed: catch up from the version held (a fetch in flight may have been answered before m.v).
    if (m.v > this.#version) return this.#catchUp(Math.max(this.#ahead, m.v));
    const local = [this.#inflight, ...this.#pending].filter((s) => s !== null);
    if ("op" in m && local.every((s) => "op" in s)) {
      let op = m.op;
      try {
        for (const s of local) op = this.#transformX(s, op);
        this.#apply(op, false);
      } catch (f) {
        return this.#failed(/** @type {OTError} */ (f));
      }
    } else if (local.some((s) => !s.del && !s.restore)) {
      // A create, del or restore against local changes (or local changes other than ops): start again from the server.
      this.hardRollback().catch(() => {});
      return;
    } else if (local.length) {
      // A local del or restore waiting for its ack dominates: the remote change is dropped.
    } else if (m.create) {
      const t = types.get(m.create.type);
      this.#type = t;
      this.#data = t?.create(clone(m.create.data));
      this.#emit("create", false);
    } else if (m.del) {
      const data = this.#data;
      this.#type = this.#data = undefined;
      this.#emit("del", data, false);
    } else if (m.restore && this.#type) {
      this.#data = this.#type.create(clone(m.restore.data));
      this.#emit("restore", m.restore.v, false);
    }
    this.#version++;
  }

  /** Transforms a local op and an incoming op against each other; returns the incoming one. @param {Submit} s @param {unknown} incoming */
  #transformX(s, incoming) {
    const t = /** @type {OTType} */ (this.#type);
    try {
      if (t.transformX) [s.op, incoming] = t.transformX(s.op, incoming);
      else [s.op, incoming] = [t.transform(s.op, incoming, "left"), t.transform(incoming, s.op, "right")];
    } catch (e) {
      throw new OTError(10, `Op transform failed: ${message(e)}`);
    }
    return incoming;
  }

  /** Applies `op`; a type's error is thrown as an OTError of code 9. @param {unknown} op @param {unknown} source */
  #apply(op, source) {
    const t = /** @type {OTType} */ (this.#type);
    this.#emit("beforeOp", op, source);
    try {
      this.#data = t.apply(this.#data, op);
    } catch (e) {
      throw new OTError(9, message(e));
    }
    this.#emit("op", op, source);
  }

  /**
   * A transform or an apply threw (`e`): types apply in place, so `data` may be half changed and only the server's copy
   * can be trusted; a hard rollback. @param {OTError} e
   */
  #failed(e) { this.#rollback(e).catch(() => {}); }
}

/** @param {unknown} e */
const message = (e) => String(e instanceof Error ? e.message : e);

/** @template V @param {V} v @returns {V} */
const clone = (v) => (v === undefined ? v : structuredClone(v));
