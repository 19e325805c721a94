// The demo: a room with chat, a member list, everyone's cursor and a shared list, built only on the browser client. The
// member list and the cursors are Presence: each page's state is { name, color, cursor }, kept by the host's presence
// feature, and a cursor move is a field update of that state. The list is the room's document (a SharedDoc of json0 on
// the host's documents: { items: [{ text, name, color }] }), so every page edits one list and sees the others' edits. Chat
// lines go through the host's relay (every message goes to the other members of the room).
import { Client, DisconnectReason, Presence, SharedDoc, TypesManager } from "/realtime/client.js";
import { listType } from "./list-type.js";

TypesManager.register(listType);

const $ = (selector) => document.querySelector(selector);
const me = { name: "", color: `hsl(${Math.floor(Math.random() * 360)} 70% 45%)` };
/** The members as last drawn, by connection id: a member that leaves is named from here. @type {Map<string, { name: string, color: string }>} */
const shown = new Map();
let connection;
let presence;
let doc;

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
  // restoreOnReconnect: after a dropped network this page subscribes and shows itself again by itself (under its new id).
  presence = new Presence(connection, { restoreOnReconnect: true });
  setState("connecting", "connecting…");

  presence.on("add", (states) => {
    for (const state of Object.values(states)) system(`${member(state).name} joined`);
    render();
  });
  presence.on("update", render);
  presence.on("remove", (ids) => {
    for (const id of ids) if (shown.has(id)) system(`${shown.get(id).name} left`);
    render();
  });
  presence.submitLocalState({ name: me.name, color: me.color, cursor: null });
  presence.subscribe().then(render, () => {});

  openList();

  connection.on("connect", () => {
    setState("connected", `connected · ${connection.id}`);
    render();
  });
  connection.on("disconnect", (reason) => setState("disconnected", `disconnected (${reasonName(reason)})`));
  connection.on("reconnectAttempts", (attempt) => setState("reconnecting", `reconnecting… (attempt ${attempt})`));
  connection.on("reconnect", () => system("reconnected"));
  connection.on("reconnectFailed", () => setState("disconnected", "gave up reconnecting"));
  connection.on("error", (error) => console.warn("realtime:", error.message));
  connection.on("message", (data, type) => {
    if (type === "chat" && data && typeof data === "object") line(member(data).name, String(data.text), member(data).color);
  });
}

/** A member's name and color from a state (or a chat line) that another page sent: anything may arrive. */
function member(state) {
  const s = state && typeof state === "object" ? state : {};
  return { name: String(s.name ?? "?").slice(0, 32), color: String(s.color ?? "inherit"), cursor: s.cursor };
}

/** Draws the member list and the cursors from presence.otherStates. */
function render() {
  const list = $("#members");
  const mine = document.createElement("li");
  mine.textContent = `${me.name} (you)`;
  mine.className = "me";
  mine.style.setProperty("--color", me.color);
  list.replaceChildren(mine);
  const others = presence ? Object.entries(presence.otherStates) : [];
  shown.clear();
  for (const [id, state] of others) {
    const m = member(state);
    shown.set(id, m);
    const li = document.createElement("li");
    li.textContent = m.name;
    li.dataset.member = id;
    li.style.setProperty("--color", m.color);
    list.append(li);
    drawCursor(id, m);
  }
  for (const cursor of document.querySelectorAll("#board .cursor")) if (!shown.has(cursor.dataset.member)) cursor.remove();
}

function drawCursor(id, m) {
  let cursor = [...document.querySelectorAll("#board .cursor")].find((c) => c.dataset.member === id);
  const at = m.cursor;
  if (!at || typeof at.x !== "number" || typeof at.y !== "number") {
    cursor?.remove();
    return;
  }
  if (!cursor) {
    cursor = document.createElement("div");
    cursor.className = "cursor";
    cursor.dataset.member = id;
    $("#board").append(cursor);
  }
  cursor.textContent = m.name;
  cursor.style.setProperty("--color", m.color);
  cursor.style.left = `${Math.min(Math.max(at.x, 0), 1) * 100}%`;
  cursor.style.top = `${Math.min(Math.max(at.y, 0), 1) * 100}%`;
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

// Cursor moves: at most one field update per animation frame, as fractions of the board so screens of any size agree.
// While offline nothing is sent (the connection's buffer would only fill up); the restore sends the state as it was.
let pending;
const sendCursor = (cursor) => {
  const first = pending === undefined;
  pending = cursor;
  if (first) {
    requestAnimationFrame(() => {
      if (connection?.connected) presence.submitLocalStateField("cursor", pending);
      pending = undefined;
    });
  }
};
$("#board").addEventListener("pointermove", (e) => {
  const r = e.currentTarget.getBoundingClientRect();
  sendCursor({ x: (e.clientX - r.left) / r.width, y: (e.clientY - r.top) / r.height });
});
$("#board").addEventListener("pointerleave", () => sendCursor(null));

$("#say").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("#line").value.trim();
  if (!text || !connection) return;
  try {
    connection.send({ name: me.name, color: me.color, text }, "chat");
    line(`${me.name} (you)`, text, me.color);
    $("#line").value = "";
  } catch (error) {
    system(`not sent: ${error.message}`);
  }
});

/** The room's shared list: subscribed (it follows every page's edits, also after a reconnection), created by the first page. */
function openList() {
  doc = new SharedDoc(connection);
  renderList();
  for (const event of ["load", "op", "create", "del", "restore", "hardRollback"]) doc.on(event, renderList);
  doc.on("error", (error) => system(`list: ${error.message}`));
  doc
    .subscribe()
    .then(() => (doc.type ? undefined : doc.create({ items: [] }, listType.uri)))
    // Another page created it first (code 0): what it created is what this page's subscription brings.
    .catch((error) => (error?.code === 0 ? doc.fetch() : system(`list: ${error?.message ?? error}`)))
    .then(renderList, () => {});
}

/** Draws the list from doc.data: each item with who added it, in their color, and a button that removes it. */
function renderList() {
  const loaded = Array.isArray(doc?.data?.items);
  const items = loaded ? doc.data.items : [];
  // Nothing to add to until the list is loaded (and created).
  $("#note").disabled = $("#note-form button").disabled = !loaded;
  $("#notes").replaceChildren(
    ...items.map((item, index) => {
      const m = member(item);
      const li = document.createElement("li");
      li.style.setProperty("--color", m.color);
      const text = document.createElement("span");
      text.textContent = String(item?.text ?? "");
      const by = document.createElement("small");
      by.textContent = m.name;
      const remove = document.createElement("button");
      remove.type = "button";
      remove.textContent = "✕";
      remove.title = "Remove";
      remove.addEventListener("click", () => edit([{ p: ["items", index], ld: item }]));
      li.append(text, by, remove);
      return li;
    }),
  );
}

/** Applies an edit here at once and sends it; a refused one is rolled back by the SharedDoc, and said in the chat. */
function edit(op) {
  if (!doc?.type) return;
  doc.submitOp(op).catch((error) => system(`list: ${error?.message ?? error}`));
  renderList();
}

$("#note-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("#note").value.trim();
  if (!text || !Array.isArray(doc?.data?.items)) return;
  edit([{ p: ["items", doc.data.items.length], li: { text, name: me.name, color: me.color } }]);
  $("#note").value = "";
});

function leave() {
  if (!connection) return;
  // Closing the connection is enough: the server removes its state and the others get remove.
  doc.destroy();
  presence.destroy();
  connection.destroy();
  connection = presence = doc = undefined;
  renderList();
}

$("#leave").addEventListener("click", () => {
  leave();
  render();
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
