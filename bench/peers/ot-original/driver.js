// The document benchmark's load for the original framework's wire, through the original's own client connection
// (@mescius/js-collaboration-client, unmodified): the original server without a licence key admits only clients whose
// page is served from localhost (its evaluation mode), and its client proves that with a token of its own making at
// connect. So this process stands for such a page (location.hostname "localhost") and, once connected, sends and reads
// the raw "ot-doc" messages exactly as the C# load client does (bench/Realtime.LoadTest/DocumentClient.cs): one json0 op
// in flight per editor, written against the highest version it has seen, the next sent on the ack of the previous.
//
// Usage: node driver.js <port> <documents> <editors per document> <warm-up ms> <measured ms>
// Prints "measuring" and "over" when the measured window opens and closes (the load test reads the server's CPU time
// then), and a last line of JSON with the figures. Every loop is bounded in count and time.
globalThis.location = { hostname: "localhost" };
const { Client } = require("@mescius/js-collaboration-client");

const [port, documents, editors, warmupMs, measuredMs] = process.argv.slice(2).map((a) => parseInt(a, 10));
const OP = [{ p: ["n"], na: 1 }];
const REPLY_TIMEOUT_MS = 30000;
const CONNECT_TIMEOUT_MS = 120000;
const hardLimit = setTimeout(() => {
  console.error("driver: over its time limit");
  process.exit(3);
}, warmupMs + measuredMs + 5 * 60000);

function editor(documentIndex) {
  const conn = new Client(`ws://127.0.0.1:${port}`).connect(`doc${documentIndex}`);
  const state = { conn, documentIndex, version: 0, seq: 0, ackSeq: -1, ack: null, reply: null };
  state.connected = new Promise((resolve, reject) => { // listened to from the start: the connection opens on its own
    const timer = setTimeout(() => reject(new Error(`no connect within ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
    conn.once("connect", () => { clearTimeout(timer); resolve(); });
    // A refusal by the server (it carries data, e.g. the licence check) ends the run; a transport error is retried by the client.
    conn.on("error", (e) => {
      if (e && e.data) {
        clearTimeout(timer);
        reject(new Error(JSON.stringify(e)));
      }
    });
  });
  conn.on("message", (data, type) => {
    if (type !== "ot-doc" || typeof data !== "object" || data === null) return;
    const arrived = process.hrtime.bigint();
    if (data.error) {
      const failure = new Error(`refused on doc${documentIndex}: ${JSON.stringify(data.error)}`);
      if (data.a === 5) state.ack?.reject(failure);
      else state.reply?.reject(failure);
      return;
    }
    if (data.a === 5) {
      if (typeof data.v === "number" && data.v + 1 > state.version) state.version = data.v + 1;
      const carriesOp = "op" in data || "create" in data || "del" in data || "restore" in data;
      if (data.seq === state.ackSeq && (!carriesOp || data.src === conn.id)) state.ack?.resolve(arrived);
    } else if (data.a === 0 || data.a === 3) {
      if (data.data && typeof data.data.v === "number" && data.data.v > state.version) state.version = data.data.v;
      state.reply?.resolve(data);
    }
  });
  return state;
}

function expect(state, field, send) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no reply within ${REPLY_TIMEOUT_MS} ms on doc${state.documentIndex}`)), REPLY_TIMEOUT_MS);
    state[field] = {
      resolve: (v) => { clearTimeout(timer); resolve(v); },
      reject: (e) => { clearTimeout(timer); reject(e); },
    };
    send();
  });
}

const request = (state, message) => expect(state, "reply", () => state.conn.send(message, "ot-doc"));

function submit(state, message) {
  state.ackSeq = message.seq;
  return expect(state, "ack", () => state.conn.send(message, "ot-doc"));
}

async function bounded(items, action) {
  let next = 0;
  const workers = Array.from({ length: Math.min(64, items.length) }, async () => {
    while (next < items.length) await action(items[next++]);
  });
  await Promise.all(workers);
}

async function main() {
  // At most 64 handshakes at a time, as the C# load client.
  const rooms = Array.from({ length: documents }, () => new Array(editors));
  const slots = rooms.flatMap((room, d) => room.fill(null).map((_, e) => [d, e]));
  await bounded(slots, async ([d, e]) => {
    rooms[d][e] = editor(d);
    await rooms[d][e].connected;
  });
  const all = rooms.flat();
  await bounded(all, (s) => request(s, { a: 3 }));
  await bounded(rooms, (room) => submit(room[0], { a: 5, seq: ++room[0].seq, v: 0, x: {}, create: { type: "json0", data: { n: 0 } } }));
  for (let waited = 0; !all.every((s) => s.version >= 1); waited += 20) {
    if (waited > REPLY_TIMEOUT_MS) throw new Error("not every editor saw its document created");
    await new Promise((r) => setTimeout(r, 20));
  }

  let phase = 0; // 0 warm-up, 1 measuring, 2 over
  const acked = new Array(documents).fill(0);
  const samples = [];
  let measuredOps = 0, errors = 0, firstError = null;
  const loops = all.map(async (s) => {
    try {
      while (phase !== 2) {
        const seq = ++s.seq;
        const start = process.hrtime.bigint();
        const arrived = await submit(s, { a: 5, seq, v: s.version, x: {}, op: OP });
        acked[s.documentIndex]++;
        if (phase === 1) {
          // Every op acknowledged in the window counts, with its whole submit-to-ack time (as the C# load client does).
          measuredOps++;
          samples.push(Number(arrived - start) / 1000);
        }
      }
    } catch (e) {
      errors++;
      firstError ??= e.message;
    }
  });
  await new Promise((r) => setTimeout(r, warmupMs));
  phase = 1;
  console.log("measuring");
  const opened = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, measuredMs));
  phase = 2;
  const windowMs = Number(process.hrtime.bigint() - opened) / 1e6; // a busy event loop fires the timer late: the real window
  console.log("over");
  await Promise.all(loops);

  let mismatched = 0;
  await bounded(rooms, async (room) => {
    const reply = await request(room[0], { a: 0 });
    const n = reply.data && reply.data.data ? reply.data.data.n : -1;
    mismatched += Math.abs(n - acked[room[0].documentIndex]);
  });
  samples.sort((a, b) => a - b);
  const quantile = (q) => (samples.length ? samples[Math.floor(q * (samples.length - 1))] : null);
  console.log(JSON.stringify({ measuredOps, windowMs, p50: quantile(0.5), p99: quantile(0.99), mismatched, errors, firstError }));
  all.forEach((s) => s.conn.close());
  clearTimeout(hardLimit);
  process.exit(0);
}

main().catch((e) => {
  console.error("driver: " + (e.stack || e));
  process.exit(1);
});
