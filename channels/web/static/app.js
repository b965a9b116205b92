// The chat page: wires the protocol client (protocol.js) to the DOM (view.js).
//
// Exactly-once display: every session event carries a per-session `seq`; we
// apply an event only if its seq is above `lastSeq`, and after any (re)connect
// we subscribe with `after_seq: lastSeq`, so the server replays what we missed
// and nothing twice.  Exactly-once sending: each message gets one idempotency
// key, reused if the send has to be repeated after a reconnect.

import { GatewayClient, PROTOCOL_VERSION } from "./protocol.js";
import { ChatView } from "./view.js";

const CLIENT = { name: "skillyard-web", version: "0.1.0" };
const HISTORY_LIMIT = 200;
const MAX_RATE_LIMIT_RETRIES = 3;

const $ = (id) => document.getElementById(id);
const ui = {
  status: $("status"),
  messages: $("messages"),
  composer: $("composer"),
  input: $("input"),
  stop: $("stop"),
  newChat: $("new-chat"),
  tokenDialog: $("token-dialog"),
  tokenForm: $("token-form"),
  tokenInput: $("token-input"),
  tokenError: $("token-error"),
};

// What survives a reload of this tab.  The token never goes to localStorage:
// it should not outlive the tab it was pasted into.
const store = {
  get(key) {
    try {
      return sessionStorage.getItem(`skillyard.${key}`);
    } catch {
      return null; // storage disabled: we still work, we just forget on reload
    }
  },
  set(key, value) {
    try {
      if (value === null) sessionStorage.removeItem(`skillyard.${key}`);
      else sessionStorage.setItem(`skillyard.${key}`, value);
    } catch {
      /* see get() */
    }
  },
};

const chat = {
  session: store.get("session"), // the session on screen
  shown: null, // the session whose history is rendered
  applying: null, // the session whose events we apply (after we asked to subscribe)
  lastSeq: 0,
  active: new Set(), // run ids in flight
  finished: new Set(),
};

const view = new ChatView(ui.messages);

function wsUrl() {
  const url = new URL("ws", location.href); // relative, so a path prefix is kept
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.hash = "";
  url.search = "";
  return url.href;
}

const client = new GatewayClient(wsUrl(), () => ({
  min_protocol: PROTOCOL_VERSION,
  max_protocol: PROTOCOL_VERSION,
  client: CLIENT,
  auth: { token: store.get("token") ?? "" },
  ...(chat.session ? { session: chat.session } : {}),
}));

// --- token ------------------------------------------------------------------

/** Move a `#token=` from the address bar into sessionStorage. */
function takeTokenFromUrl() {
  const params = new URLSearchParams(location.hash.slice(1));
  const token = params.get("token");
  if (token === null) return;
  params.delete("token");
  const rest = params.toString();
  history.replaceState(null, "", location.pathname + location.search + (rest ? `#${rest}` : ""));
  if (token) store.set("token", token);
}

function askForToken(message) {
  ui.tokenError.textContent = message;
  ui.tokenError.hidden = !message;
  ui.tokenInput.value = "";
  if (!ui.tokenDialog.open) ui.tokenDialog.showModal();
  ui.tokenInput.focus();
}

ui.tokenForm.addEventListener("submit", (ev) => {
  ev.preventDefault();
  const token = ui.tokenInput.value.trim();
  if (!token) return;
  store.set("token", token);
  ui.tokenDialog.close();
  ui.input.focus();
  client.start();
});
ui.tokenDialog.addEventListener("cancel", (ev) => ev.preventDefault()); // nothing works without one

// --- connection -------------------------------------------------------------

function setStatus(state, text) {
  ui.status.dataset.state = state;
  ui.status.textContent = text;
}

const STATES = {
  connecting: () => setStatus("connecting", "Connecting…"),
  connected: () => setStatus("connecting", "Syncing…"), // "Connected" once subscribed
  reconnecting: () => setStatus("reconnecting", "Reconnecting…"),
  unauthorized: () => {
    setStatus("offline", "Not signed in");
    store.set("token", null);
    askForToken("The gateway rejected this access token (unauthorized). Enter a valid token.");
  },
  failed: ({ code, message }) => {
    if (code === "not_found" && chat.session) {
      // The remembered session is gone (a new data dir, another token): start afresh.
      chat.session = null;
      store.set("session", null);
      client.start();
      return;
    }
    setStatus("offline", "Cannot connect");
    view.notice(`Cannot connect: ${message}`, "error");
  },
};

client.addEventListener("state", (ev) => STATES[ev.detail.state]?.(ev.detail));
client.addEventListener("ready", (ev) => sync(ev.detail.session).catch(report));
client.addEventListener("event", (ev) => onEvent(ev.detail));
window.addEventListener("online", () => client.reconnectNow());

/** Show `session`: its history on first sight, then everything after lastSeq. */
async function sync(session) {
  if (chat.shown !== session) {
    const params = { session, limit: HISTORY_LIMIT };
    const page = await client.request("sessions.history", params).catch(unlessNew);
    show(session);
    chat.lastSeq = Math.max(0, ...page.messages.map((m) => m.seq));
    for (const entry of storedEntries(session, page)) showStored(entry);
  }
  chat.applying = session;
  const params = { session, after_seq: chat.lastSeq };
  await client.request("sessions.subscribe", params).catch(unlessNew);
  setStatus("connected", "Connected");
}

// A session nothing was said in yet may not exist on the server: it is empty,
// and our first chat.send creates it and subscribes us to it.
function unlessNew(err) {
  if (err.code === "not_found") return { messages: [] };
  throw err;
}

function show(session) {
  chat.session = chat.shown = session;
  chat.applying = null;
  chat.lastSeq = 0;
  chat.active.clear();
  updateStop();
  store.set("session", session);
  view.clear();
}

/**
 * A history page's messages and files (older servers send no `files`), in `seq` order.
 * Files after the newest message are left out: subscribing replays them as events.
 */
function storedEntries(session, { messages, files = [] }) {
  const sent = files.filter((f) => f.seq <= chat.lastSeq).map((f) => ({ ...f, session }));
  return [...messages, ...sent].sort((a, b) => a.seq - b.seq);
}

function showStored(entry) {
  if ("file_id" in entry) showFile(entry);
  else if (entry.role === "user") view.user(entry.text);
  else if (entry.error_code) view.error(entry.run_id, entry.error_code, entry.text);
  else view.final(entry.run_id, entry.text, entry.status);
}

function report(err) {
  if (err.code === "disconnected") return; // the next connect re-syncs
  view.notice(`${err.code ?? "error"}: ${err.message}`, "error");
}

// --- session events ---------------------------------------------------------

function begin(runId) {
  if (!chat.finished.has(runId)) chat.active.add(runId);
  updateStop();
}

function end(runId) {
  chat.active.delete(runId);
  chat.finished.add(runId);
  updateStop();
}

function updateStop() {
  ui.stop.hidden = chat.active.size === 0;
}

const HANDLERS = {
  "chat.message": (p) => view.confirmPending(p.text) || view.user(p.text),
  "chat.typing": (p) => (begin(p.run_id), view.typing(p.run_id)),
  "chat.delta": (p) => (begin(p.run_id), view.delta(p.run_id, p.text)),
  "chat.tool": (p) => (begin(p.run_id), view.tool(p.run_id, p.tool, p.phase, p.detail)),
  "chat.final": (p) => (end(p.run_id), view.final(p.run_id, p.text, p.status)),
  "chat.error": (p) => (end(p.run_id), view.error(p.run_id, p.code, p.message)),
  "chat.file": (p) => (begin(p.run_id), showFile(p)),
  "approval.requested": (p) => (begin(p.run_id), view.approval(p, (d) => decide(p, d))),
  "approval.resolved": (p) => view.approvalResolved(p.request_id, p.decision),
};

function onEvent({ event, payload, seq }) {
  if (!payload || payload.session !== chat.applying) return; // replayed once we subscribe
  if (typeof seq === "number") {
    if (seq <= chat.lastSeq) return; // already applied
    chat.lastSeq = seq;
  }
  HANDLERS[event]?.(payload);
}

// --- files the assistant sent ------------------------------------------------

// Relative, like the WebSocket URL, so a path prefix is kept.
function fileUrl({ session, file_id: fileId }) {
  return `files/${encodeURIComponent(session)}/${encodeURIComponent(fileId)}`;
}

function showFile(payload) {
  const item = view.file(payload, fileUrl(payload), () => download(payload, item));
}

/** Fetch a sent file with the token (a plain link cannot send it) and save it. */
async function download(payload, item) {
  const headers = { Authorization: `Bearer ${store.get("token") ?? ""}` };
  try {
    const response = await fetch(fileUrl(payload), { headers });
    if (!response.ok) {
      const problem = await response.json().catch(() => ({}));
      // The server keeps sent files for a while (files.keep_days), then deletes them.
      if (problem.error === "expired") return view.fileExpired(item, problem.message);
      throw new Error(`the server answered ${response.status}`);
    }
    const saving = document.createElement("a");
    saving.href = URL.createObjectURL(await response.blob());
    saving.download = payload.name; // the browser cleans the name it saves as
    document.body.append(saving);
    saving.click();
    saving.remove();
    setTimeout(() => URL.revokeObjectURL(saving.href), 60_000); // after the save began
  } catch (err) {
    view.notice(`Could not download ${payload.name}: ${err.message}`, "error");
  }
}

function decide({ request_id: requestId }, decision) {
  client.request("approval.resolve", { request_id: requestId, decision }).catch(report);
  ui.input.focus();
}

// --- sending ----------------------------------------------------------------

const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function send(text) {
  const bubble = view.user(text, { pending: true });
  const params = { text, idempotency_key: crypto.randomUUID() };
  if (chat.session) params.session = chat.session;
  for (let attempt = 0; ; attempt++) {
    try {
      // retry: a send cut off by a dropped socket goes again, same key, after reconnecting.
      const { run_id: runId } = await client.request("chat.send", params, { retry: true });
      view.sent(bubble);
      begin(runId);
      return;
    } catch (err) {
      if (err.code === "rate_limited" && attempt < MAX_RATE_LIMIT_RETRIES) {
        await wait(err.retryAfterMs ?? 1000);
        continue;
      }
      view.failed(bubble, `Not sent (${err.code}): ${err.message}`);
      return;
    }
  }
}

ui.composer.addEventListener("submit", (ev) => {
  ev.preventDefault();
  const text = ui.input.value;
  if (!text.trim()) return;
  ui.input.value = "";
  send(text);
  ui.input.focus();
});

ui.input.addEventListener("keydown", (ev) => {
  // Enter sends, Shift+Enter is a newline; never send half an IME composition.
  if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
    ev.preventDefault();
    ui.composer.requestSubmit();
  }
});

ui.stop.addEventListener("click", () => {
  client.request("chat.abort", { session: chat.session }).catch(report);
  ui.input.focus();
});

ui.newChat.addEventListener("click", async () => {
  try {
    const { session } = await client.request("sessions.new", {});
    const old = chat.session;
    chat.shown = null;
    await sync(session);
    if (old && old !== session) await client.request("sessions.unsubscribe", { session: old });
  } catch (err) {
    report(err);
  }
  ui.input.focus();
});

// --- start ------------------------------------------------------------------

takeTokenFromUrl();
if (store.get("token")) client.start();
else askForToken("");
