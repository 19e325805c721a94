// Type declarations of the Realtime browser client (src/realtime-client.js).

/** Why a connection ended; the numbers are those of the server and of the original client. */
export declare const DisconnectReason: Readonly<{
  /** The client closed deliberately (`close()`, or the page went away). */
  CLIENT_DISCONNECT: 0;
  /** The server closed deliberately (close code 4000); no reconnection. */
  SERVER_DISCONNECT: 1;
  /** The heartbeat was lost, detected by either side. */
  PING_TIMEOUT: 2;
  /** The connection ended without a protocol problem (server stopping, peer vanished). */
  TRANSPORT_CLOSE: 3;
  /** Everything else: protocol violations, a slow consumer, I/O errors. */
  TRANSPORT_ERROR: 4;
}>;

/** One of the values of {@link DisconnectReason}. */
export type DisconnectReason = (typeof DisconnectReason)[keyof typeof DisconnectReason];

/** Options of a {@link Client}; every member is optional. */
export interface ClientOptions {
  /** The endpoint's path on the server. Default `"/realtime"`. */
  path?: string;
  /** Whether to reconnect after a drop. Default `true`. */
  reconnection?: boolean;
  /** How many reconnection attempts in a row before `reconnectFailed`. Default `Infinity`. */
  reconnectionAttempts?: number;
  /** The first backoff delay, in ms. Default 1000. */
  reconnectionDelay?: number;
  /** The cap of the backoff delay before jitter, in ms. Default 5000. */
  reconnectionDelayMax?: number;
  /** The jitter: each delay is drawn from [d·(1 − f), d·(1 + f)]. Default 0.5. */
  randomizationFactor?: number;
  /** How long one connection attempt may take until `welcome`, in ms. Default 20000. */
  timeout?: number;
  /** How many messages `send` may buffer while offline; past that it throws. Default 1000. */
  maxBufferedMessages?: number;
  /** The WebSocket constructor to use. Default `globalThis.WebSocket`. */
  WebSocket?: typeof WebSocket;
}

/** The auth payload, or a function that returns it (or a Promise of it), called before every attempt. */
export type Auth = unknown | (() => unknown | Promise<unknown>);

/** Options of {@link Client.connect}. */
export interface ConnectOptions {
  /** Extra query parameters of the URL, exposed to the server as the connection's `Query`. */
  query?: Record<string, string | number | boolean>;
  /** Sent in `hello`; a function is called anew before every (re)connection, so a token can be refreshed. */
  auth?: Auth;
}

/** A message's payload: any JSON value, or an `ArrayBuffer` for a binary message. */
export type MessageData = unknown;

/** A W3C trace context (https://www.w3.org/TR/trace-context/): the optional `traceparent` and `tracestate` of a message. */
export interface TraceContext {
  /** The `traceparent` value, for example `00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01`. */
  traceparent?: string;
  /** The `tracestate` value; sent only with a `traceparent`. */
  tracestate?: string;
}

/** The events of a {@link Connection} and their listeners' parameters. */
export interface ConnectionEvents {
  /** Connected (after `welcome`); `id` and `recovered` are set. */
  connect: () => void;
  /** A message from the server; `type` is `null` when it has none (`""` is a type of its own); binary data arrives as an `ArrayBuffer`. */
  message: (data: MessageData, type: string | null) => void;
  /** The connection ended; `id` is `undefined` and `connected` false. */
  disconnect: (reason: DisconnectReason) => void;
  /** A connection attempt failed, or the server refused a message; `message` is the server's text where it gave one. */
  error: (error: Error) => void;
  /** Reconnection attempt `attempt` (from 1) starts. */
  reconnectAttempts: (attempt: number) => void;
  /** Reconnected after `attempt` attempts; `connect` follows. `recovered` already says whether missed messages are replayed. */
  reconnect: (attempt: number) => void;
  /** Reconnection gave up after `reconnectionAttempts`. */
  reconnectFailed: () => void;
}

/** A Realtime server, addressed by its origin. */
export declare class Client {
  /**
   * @param url The server; defaults to the page's origin (`http` → `ws`, `https` → `wss`).
   * @param options Reconnection, buffering and transport options.
   */
  constructor(url?: string | URL, options?: ClientOptions);
  /** The server's WebSocket origin, for example `ws://localhost:5000`. */
  readonly url: string;
  /** The options in effect, defaults filled in. */
  readonly options: Readonly<Required<ClientOptions>>;
  /** Opens a connection to a room and returns it at once; it connects in the background. */
  connect(roomId: string, options?: ConnectOptions): Connection;
}

/** One connection to a room. */
export declare class Connection {
  private constructor();
  /** The server-assigned 20-character id while connected; `undefined` otherwise. A reconnection gets a new one. */
  readonly id: string | undefined;
  /** The room this connection belongs to. */
  readonly roomId: string;
  /** Whether the connection is connected now. */
  readonly connected: boolean;
  /**
   * Whether the last (re)connection recovered: `true` when the server replays every room broadcast this connection missed
   * since the previous one (they arrive through `message`, in order, right after `connect` and before anything newer);
   * `false` on a first connection and when nothing could be recovered (the room keeps no history, the drop outlasted it,
   * the token was refused), in which case messages broadcast during the drop are lost. Set when `welcome` arrives, before
   * `reconnect` and `connect` are raised; kept through a `disconnect` until the next `welcome`.
   */
  readonly recovered: boolean;
  /**
   * Sends a message. Any JSON value is sent as text; an `ArrayBuffer`, typed array or `DataView` as a binary frame.
   * While offline it is buffered (at most `maxBufferedMessages`) and sent after the next `connect`.
   * `type` `null` or absent is no type; `""` is a type of its own, which a binary frame cannot carry.
   * `trace` adds the W3C trace context of the send (for example from OpenTelemetry's propagator) to a text frame, so the
   * server's span for the message joins that trace; a binary frame has no room for it.
   * @throws Error when the connection is closed or the buffer is full; RangeError when `type` is over 255 bytes, or `""` with binary data.
   */
  send(data: MessageData, type?: string | null, trace?: TraceContext): void;
  /** Closes for good: `disconnect` (CLIENT_DISCONNECT) if connected, and no reconnection. */
  close(): void;
  /** `close()`, then removes every listener. */
  destroy(): void;
  /** Adds a listener and returns it. */
  on<E extends keyof ConnectionEvents>(name: E, handler: ConnectionEvents[E]): ConnectionEvents[E];
  /** Adds a listener that is removed after its first call, and returns it. */
  once<E extends keyof ConnectionEvents>(name: E, handler: ConnectionEvents[E]): ConnectionEvents[E];
  /** Removes a listener added with `on` or `once`. */
  off<E extends keyof ConnectionEvents>(name: E, handler: ConnectionEvents[E]): this;
}

/** Options of a {@link Presence}. */
export interface PresenceOptions {
  /**
   * Beyond the original: after a reconnection, subscribe again (if `subscribe()` was called) and submit `localState`
   * again (if there is one), so a dropped network does not leave this connection unsubscribed and without a state.
   * The answer to that subscribe raises `remove`, `add` and `update` for what changed in the meantime. Default `false`:
   * the original does nothing on a reconnection.
   */
  restoreOnReconnect?: boolean;
}

/** The events of a {@link Presence} and their listeners' parameters. */
export interface PresenceEvents<P> {
  /** Connections submitted their first state (or their first since a removal): their states by connection id. */
  add: (presences: Record<string, P>) => void;
  /** Connections replaced their state, or updated one field of it: their whole new states by connection id. */
  update: (presences: Record<string, P>) => void;
  /** Connections removed their state or left the room: their ids. */
  remove: (ids: string[]) => void;
}

/**
 * Each connection's state in the room (a cursor, a selection, a name), shared through the server's presence feature
 * (`server.UsePresence()`): the `Presence` of the original framework's presence client. Its messages are ordinary
 * messages of type `"presence"`, so the connection's `message` event sees them too.
 * @typeParam P The type of a state.
 */
export declare class Presence<P = any> {
  /** Starts listening to `connection`'s `"presence"` messages; sends nothing until a method is called. */
  constructor(connection: Connection, options?: PresenceOptions);
  /** The connection it works on. */
  readonly connection: Connection;
  /** The connection's id, under which the others know this presence; `undefined` while disconnected. */
  readonly id: string | undefined;
  /** This connection's state as last submitted (or as the server's subscribe answer had it); `undefined` until then. */
  readonly localState: P | undefined;
  /** The other connections' states, by connection id. */
  readonly otherStates: Readonly<Record<string, P>>;
  /**
   * Subscribes: the server answers with every state in the room, which replace `otherStates` (the entry under this
   * connection's id becomes `localState`), and then sends every change. Resolves once that answer has been applied
   * (it resolves every subscribe still waiting). Rejects when the message cannot be sent (as {@link Connection.send}
   * throws) or the presence is destroyed first. A request lost with a dropped connection stays unanswered until the
   * next answer: that of `subscribe()` called again, or of the re-subscription of `restoreOnReconnect`.
   */
  subscribe(): Promise<void>;
  /**
   * Sets `localState` and sends it; the others get `add` (their first sight of it) or `update`.
   * @throws Error as {@link Connection.send} does (a closed connection, a full buffer), or after `destroy()`.
   */
  submitLocalState(state: P): void;
  /**
   * Sets one field of the state and sends only that field; the others get `update` with the whole merged state.
   * Applied only to a state that is an object, never to `__proto__`, `constructor` or `prototype` (the server's rule).
   * @throws Error as {@link Connection.send} does, or after `destroy()`.
   */
  submitLocalStateField<K extends string & keyof P>(key: K, value: P[K]): void;
  /**
   * Removes the state; the others get `remove`.
   * @throws Error as {@link Connection.send} does, or after `destroy()`.
   */
  removeLocalState(): void;
  /** Stops listening to the connection and removes every listener; an unanswered `subscribe()` rejects. Sends nothing. */
  destroy(): void;
  /** Adds a listener and returns it. */
  on<E extends keyof PresenceEvents<P>>(name: E, handler: PresenceEvents<P>[E]): PresenceEvents<P>[E];
  /** Adds a listener that is removed after its first call, and returns it. */
  once<E extends keyof PresenceEvents<P>>(name: E, handler: PresenceEvents<P>[E]): PresenceEvents<P>[E];
  /** Removes a listener added with `on` or `once`. */
  off<E extends keyof PresenceEvents<P>>(name: E, handler: PresenceEvents<P>[E]): this;
}

/**
 * An OT type of the common interface (ShareDB's and the original framework's): `ot-json0`'s and `ot-text-unicode`'s
 * `type` objects from npm fit as they are. A document needs `create`, `apply` and `transform`; `transformX` (else
 * `transform` on both sides), `compose` (else queued ops are sent one by one), `invert` (else a refused op is not rolled
 * back) and `normalize` are used when present.
 * @typeParam S The type of a snapshot. @typeParam T The type of an op.
 */
export interface OTType<S = any, T = any> {
  /** The short name, for example `"json0"`. */
  name: string;
  /** The URI, for example `"http://sharejs.org/types/JSONv0"`; snapshots from the server name the type by it. */
  uri?: string;
  create(data?: any): S;
  apply(snapshot: S, op: T): S;
  transform(op: T, other: T, side: "left" | "right"): T;
  transformX?(left: T, right: T): [T, T];
  compose?(op1: T, op2: T): T;
  invert?(op: T): T;
  normalize?(op: T): T;
}

/** The OT types a {@link SharedDoc} knows, by name and by URI: register the ones the server hosts. */
export declare const TypesManager: Readonly<{
  /** Registers `type` under its name and its URI (a type registered already under one of them is replaced). */
  register(type: OTType): void;
  /** The type registered under `nameOrUri`, or `undefined`. */
  get(nameOrUri: string): OTType | undefined;
}>;

/**
 * The error of a document request: the server's `{code, message}` (the original's codes: 0 already created, 1 does not
 * exist, 17 version newer than the server's, 19 rejected silently, 1000 a middleware's refusal, …) or one of the client's
 * own: 4008 unknown type, 4015 the document does not exist here, 4016 it exists already, 4017 dropped by a hard rollback,
 * 4018 the document was destroyed.
 */
export declare class OTError extends Error {
  constructor(code: number, message: string);
  readonly code: number;
}

/** A document as the server sends it: `type` is the type's URI; a document that does not exist has neither `type` nor `data`. */
export interface Snapshot<S = any> {
  id: string;
  v: number;
  type?: string;
  data?: S;
}

/** Options of a change: `source` is passed to the change's own events (default `true`; ops of others have `false`). */
export interface SubmitOptions {
  source?: unknown;
}

/** The events of a {@link SharedDoc} and their listeners' parameters. */
export interface SharedDocEvents<S, T> {
  /** An op is about to be applied to `data`: a local one (`source` as submitted, default `true`) or another's (`false`). */
  beforeOp: (op: T, source: unknown) => void;
  /** An op was applied to `data`; a rollback's inverse op comes with `source` `false`. */
  op: (op: T, source: unknown) => void;
  /** The document was created, here (`source` as given) or by another connection (`false`). */
  create: (source: unknown) => void;
  /** The document was deleted; `data` is what it held. */
  del: (data: S, source: unknown) => void;
  /** A snapshot was loaded by `fetch`, `subscribe` or a hard rollback. */
  load: () => void;
  /**
   * A refused change (except code 19), a refused fetch or subscribe, a snapshot of an unregistered type, or an op that
   * could not be transformed (code 10) or applied (code 9), which also does a hard rollback.
   */
  error: (error: OTError) => void;
  /**
   * `hardRollback()` dropped the local changes; a `load` follows. Also done on its own, with the `cause` (raised as
   * `error` too), when a transform (code 10) or an apply (code 9) threw part-way: `data` may then be half changed.
   */
  hardRollback: (cause?: OTError) => void;
  /** The document was restored to `targetVersion`, here or by another connection (`false`). */
  restore: (targetVersion: number, source: unknown) => void;
}

/**
 * The room's shared document (its id is the room id), kept by the server's document feature (`server.UseDocuments()`):
 * the `SharedDoc` of the original framework's OT client, on message type `"ot-doc"`. Local changes apply at once; one is
 * in flight at a time, later ones wait composed into one, and incoming ops are transformed against them. Through a
 * reconnection the waiting changes are sent again (a resent op keeps its `src` and `seq`, so it is applied once) and a
 * subscription is renewed from the version held.
 * @typeParam S The type of `data`. @typeParam T The type of an op.
 */
export declare class SharedDoc<S = any, T = any> {
  /** Starts listening to `connection`'s `"ot-doc"` messages; sends nothing until a method is called. */
  constructor(connection: Connection);
  /** The document's id: the room's. */
  readonly id: string;
  readonly connection: Connection;
  /** The version of `data`; `undefined` until loaded. */
  readonly version: number | undefined;
  /** The type; `undefined` while the document does not exist (or before it is loaded). */
  readonly type: OTType<S, T> | undefined;
  /** The content; `undefined` while the document does not exist (or before it is loaded). */
  readonly data: S | undefined;
  /** Whether the server streams this document's ops to it now (it is renewed after a reconnection). */
  readonly subscribed: boolean;
  /** Loads the document, or brings it up to date from its version. */
  fetch(): Promise<void>;
  /** Loads the document and receives every op committed after it, also after reconnections. */
  subscribe(): Promise<void>;
  /** Creates the document with `type` (a registered name or URI, or a type object; default `"json0"`). */
  create(data: unknown, type?: string | OTType<S, T>, options?: SubmitOptions): Promise<void>;
  /** Deletes the document; the server erases it and its history. */
  del(options?: SubmitOptions): Promise<void>;
  /**
   * Applies `op` to `data` at once and sends it; resolves when it is acknowledged. A refused op is rolled back by its
   * inverse (when the type has `invert`) and rejects with an {@link OTError}, except code 19, which resolves. An op the
   * type cannot apply rejects with code 9, and since `data` may be half changed the document does a hard rollback.
   */
  submitOp(op: T, options?: SubmitOptions): Promise<void>;
  /** The document as it was at `version`. */
  fetchHistorySnapshot(options: { version: number }): Promise<Snapshot<S>>;
  /** Makes the document what it was at `version`, as a new version (the history is kept). */
  restore(version: number, options?: SubmitOptions): Promise<void>;
  /** Drops every change not yet acknowledged (they reject) and loads the document again, subscribing again if it was. */
  hardRollback(): Promise<void>;
  /** Stops listening (unsubscribing), rejects what waits, and removes every listener. */
  destroy(): void;
  /** Adds a listener and returns it. */
  on<E extends keyof SharedDocEvents<S, T>>(name: E, handler: SharedDocEvents<S, T>[E]): SharedDocEvents<S, T>[E];
  /** Adds a listener that is removed after its first call, and returns it. */
  once<E extends keyof SharedDocEvents<S, T>>(name: E, handler: SharedDocEvents<S, T>[E]): SharedDocEvents<S, T>[E];
  /** Removes a listener added with `on` or `once`. */
  off<E extends keyof SharedDocEvents<S, T>>(name: E, handler: SharedDocEvents<S, T>[E]): this;
}
