// The demo: a room with chat, a member list and everyone's cursor, built only on the browser client and the
// host's relay (every message goes to the other members of the room). Presence is a pattern on top of the relay:
//   "hello" when we connect, "here" in answer to a newcomer and every few seconds, "bye" when we leave;
//   a member that is silent for longer than FORGET_AFTER is forgotten.
import { Client, DisconnectReason } from "/realtime/client.js";

const HEARTBEAT_EVERY = 5000;
const FORGET_AFTER = 15000;
const $ = (selector) => document.querySelector(selector);
const me = { id: crypto.randomUUID(), name: "", color: `hsl(${Math.floor(Math.random() * 360)} 70% 45%)` };
/** @type {Map<string, { name: string, color: string, seen: number, cursor?: HTMLElement }>} */
const members = new Map();
let connection;
let heartbeat;

$("#name").value = localStorage.getItem("realtime-demo-name") ?? `guest-${Math.floor(Math.random() * 9000) + 1000}`;
const hashRoom = decodeURIComponent(location.hash.slice(1));
if (hashRoom) $("#room").value = hashRoom;

$("#join").addEventListener("submit", (e) => {
  e.preventDefault();
  me.name = $("#name").value.trim() || "guest";
  localStorage.setItem("realtime-demo-name", me.name);
  join($("#room").value.trim() || "lobby");
});

function join(room) {
  location.hash = encodeURIComponent(room);
  $("#room-name").textContent = room;
  $("#join").hidden = true;
  $("#live").hidden = false;
  connection = new Client().connect(room, { query: { name: me.name } });
  setState("connecting", "connecting…");

  connection.on("connect", () => {
    setState("connected", `connected · ${connection.id}`);
    renderMembers();
    connection.send(presence(), "hello");
  });
  connection.on("disconnect", (reason) => {
    setState("disconnected", `disconnected (${reasonName(reason)})`);
    // Peers will announce themselves again when we are back.
    for (const id of [...members.keys()]) forget(id);
  });
  connection.on("reconnectAttempts", (attempt) => setState("reconnecting", `reconnecting… (attempt ${attempt})`));
  connection.on("reconnect", () => system("reconnected"));
  connection.on("reconnectFailed", () => setState("disconnected", "gave up reconnecting"));
  connection.on("error", (error) => console.warn("realtime:", error.message));
  connection.on("message", onMessage);

  heartbeat = setInterval(() => {
    if (connection.connected) connection.send(presence(), "here");
    const now = Date.now();
    for (const [id, m] of members) if (now - m.seen > FORGET_AFTER) forget(id);
  }, HEARTBEAT_EVERY);
}

function onMessage(data, type) {
  if (!data || typeof data !== "object" || typeof data.from !== "string" || data.from === me.id) return;
  const known = members.get(data.from);
  switch (type) {
    case "hello":
    case "here":
      remember(data);
      if (type === "hello") {
        if (!known) system(`${data.name} joined`);
        connection.send(presence(), "here");
      }
      break;
    case "chat":
      if (known) known.seen = Date.now();
      line(data.name ?? known?.name ?? "?", String(data.text), data.color ?? known?.color);
      break;
    case "cursor":
      if (known) {
        known.seen = Date.now();
        drawCursor(data.from, known, data.x, data.y);
      }
      break;
    case "bye":
      if (known) system(`${known.name} left`);
      forget(data.from);
      break;
    default:
  }
}

const presence = () => ({ from: me.id, name: me.name, color: me.color });

function remember({ from, name, color }) {
  const m = members.get(from) ?? { name, color, seen: 0 };
  Object.assign(m, { name: String(name).slice(0, 32), color: String(color), seen: Date.now() });
  members.set(from, m);
  renderMembers();
}

function forget(id) {
  members.get(id)?.cursor?.remove();
  members.delete(id);
  renderMembers();
}

function renderMembers() {
  const list = $("#members");
  list.replaceChildren();
  const everyone = [[me.id, { ...me, me: true }], ...members];
  for (const [id, m] of everyone) {
    const li = document.createElement("li");
    li.textContent = m.me ? `${m.name} (you)` : m.name;
    li.dataset.member = id;
    li.style.setProperty("--color", m.color);
    if (m.me) li.className = "me";
    list.append(li);
  }
}

function line(name, text, color) {
  const li = document.createElement("li");
  const who = document.createElement("b");
  who.textContent = `${name}: `;
  li.style.setProperty("--color", color ?? "inherit");
  li.append(who, text);
  append(li);
}

function system(text) {
  const li = document.createElement("li");
  li.className = "system";
  li.textContent = text;
  append(li);
}

function append(li) {
  const chat = $("#chat");
  chat.append(li);
  while (chat.children.length > 200) chat.firstElementChild.remove();
  chat.scrollTop = chat.scrollHeight;
}

function drawCursor(id, m, x, y) {
  if (typeof x !== "number" || typeof y !== "number") return;
  if (!m.cursor) {
    m.cursor = document.createElement("div");
    m.cursor.className = "cursor";
    m.cursor.dataset.member = id;
    $("#board").append(m.cursor);
  }
  m.cursor.textContent = m.name;
  m.cursor.style.setProperty("--color", m.color);
  m.cursor.style.left = `${Math.min(Math.max(x, 0), 1) * 100}%`;
  m.cursor.style.top = `${Math.min(Math.max(y, 0), 1) * 100}%`;
}

// Cursor moves: at most one message per animation frame, as fractions of the board so screens of any size agree.
let pending = null;
$("#board").addEventListener("pointermove", (e) => {
  const r = e.currentTarget.getBoundingClientRect();
  const first = pending === null;
  pending = { x: (e.clientX - r.left) / r.width, y: (e.clientY - r.top) / r.height };
  if (first) {
    requestAnimationFrame(() => {
      if (connection?.connected) connection.send({ from: me.id, ...pending }, "cursor");
      pending = null;
    });
  }
});

$("#say").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("#line").value.trim();
  if (!text || !connection) return;
  try {
    connection.send({ ...presence(), text }, "chat");
    line(`${me.name} (you)`, text, me.color);
    $("#line").value = "";
  } catch (error) {
    system(`not sent: ${error.message}`);
  }
});

function leave() {
  if (!connection) return;
  if (connection.connected) connection.send({ from: me.id }, "bye");
  connection.destroy();
  connection = undefined;
  clearInterval(heartbeat);
}

$("#leave").addEventListener("click", () => {
  leave();
  for (const id of [...members.keys()]) forget(id);
  $("#chat").replaceChildren();
  $("#live").hidden = true;
  $("#join").hidden = false;
  setState("idle", "not connected");
});
window.addEventListener("pagehide", (e) => {
  if (!e.persisted) leave();
});

function setState(state, text) {
  const el = $("#state");
  el.dataset.state = state;
  el.textContent = text;
}

function reasonName(reason) {
  return Object.keys(DisconnectReason).find((k) => DisconnectReason[k] === reason)?.toLowerCase().replace("_", " ") ?? String(reason);
}

if (hashRoom) $("#join").requestSubmit();
