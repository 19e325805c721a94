// A WebSocket stand-in for the unit tests: records what the client sends, and lets a test play the server.
export function fakeWebSocket() {
  /** @type {FakeWebSocket[]} */
  const sockets = [];
  class FakeWebSocket {
    /** @param {string} url @param {string} protocol */
    constructor(url, protocol) {
      this.url = url;
      this.protocol = protocol;
      this.readyState = 0;
      /** @type {Array<string | Uint8Array>} */
      this.sent = [];
      /** @type {{ code: number, reason: string } | undefined} */
      this.closedWith = undefined;
      this.onopen = this.onmessage = this.onclose = this.onerror = null;
      sockets.push(this);
    }

    send(frame) {
      if (this.readyState !== 1) throw new Error("send on a socket that is not open");
      this.sent.push(frame);
    }

    close(code, reason) {
      this.closedWith = { code, reason };
      this.readyState = 3;
    }

    // The server's side.
    open() {
      this.readyState = 1;
      this.onopen?.({});
    }

    receive(frame) {
      this.onmessage?.({ data: typeof frame === "string" || frame instanceof ArrayBuffer ? frame : JSON.stringify(frame) });
    }

    /** `recovery`: the welcome's recovery fields (`resume`, `pos`, `recovered`), if any. */
    welcome(id = "A".repeat(20), pingInterval = 25000, pingTimeout = 20000, recovery = {}) {
      this.receive({ t: "welcome", id, roomId: "room1", pingInterval, pingTimeout, maxMessageSize: 1048576, ...recovery });
    }

    serverClose(code, reason = "") {
      this.readyState = 3;
      this.onclose?.({ code, reason });
    }

    /** The text frames sent, parsed. */
    get frames() {
      return this.sent.filter((f) => typeof f === "string").map((f) => JSON.parse(f));
    }
  }
  /** Opens the newest socket and answers its hello with welcome (with the recovery fields `recovery`, if given). */
  async function accept(id, recovery) {
    await settle();
    const ws = sockets.at(-1);
    ws.open();
    await settle();
    ws.welcome(id, undefined, undefined, recovery);
    return ws;
  }

  return { WebSocket: FakeWebSocket, sockets, accept };
}

/** Lets queued microtasks and promise callbacks run. */
export const settle = () => new Promise((resolve) => setImmediate(resolve));
