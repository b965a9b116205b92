// A small client for the skillyard gateway protocol v1 (docs/reference/protocol.md).
//
// Theory of operation: one GatewayClient owns one WebSocket at a time.  On
// open it waits for the server's `connect.challenge`, answers with `connect`,
// and once that succeeds it is "ready": requests may flow and the "ready"
// event fires with the server's hello (session, limits, features).  When the
// socket closes for any reason but a rejected token (4001) it reconnects with
// exponential backoff and jitter.  Requests made with {retry: true} survive a
// drop: they are re-sent, unchanged (same idempotency key), after the next
// handshake.  This module knows nothing about the DOM.

export const PROTOCOL_VERSION = 1;
const CLOSE_UNAUTHORIZED = 4001;
const HANDSHAKE_TIMEOUT_MS = 10_000;

export class ProtocolError extends Error {
  constructor({ code, message, retryable = false, retry_after_ms, field } = {}) {
    super(message || code);
    this.code = code;
    this.retryable = retryable;
    this.retryAfterMs = retry_after_ms;
    this.field = field;
  }
}

const disconnected = () =>
  new ProtocolError({ code: "disconnected", message: "The connection was lost.", retryable: true });

/** Delay before reconnect attempt `attempt` (0-based): exponential, capped, with jitter. */
export function backoffDelay(attempt, { baseMs = 500, capMs = 15_000, random = Math.random } = {}) {
  const ceiling = Math.min(capMs, baseMs * 2 ** attempt);
  // "Equal jitter": never instant, yet clients that dropped together spread out.
  return ceiling / 2 + (random() * ceiling) / 2;
}

export class GatewayClient extends EventTarget {
  #url;
  #connectParams;
  #socket = null;
  #ready = false;
  #stopped = true;
  #nextId = 1;
  #pending = new Map(); // id -> call awaiting its response
  #outbox = []; // retryable calls waiting for the next handshake
  #attempt = 0;
  #reconnectTimer = null;
  #watchdog = null;
  #silenceMs = HANDSHAKE_TIMEOUT_MS;

  /** `connectParams()` is called on every handshake, so token and session may change. */
  constructor(url, connectParams) {
    super();
    this.#url = url;
    this.#connectParams = connectParams;
  }

  get ready() {
    return this.#ready;
  }

  start() {
    this.#stopped = false;
    this.#attempt = 0;
    this.#open();
  }

  stop() {
    this.#stopped = true;
    clearTimeout(this.#reconnectTimer);
    this.#drop(1000, "client stopped");
  }

  /** Skip the backoff wait, e.g. when the browser says it is online again. */
  reconnectNow() {
    if (this.#stopped || this.#socket) return;
    clearTimeout(this.#reconnectTimer);
    this.#open();
  }

  /** Send a request; resolves with its payload or rejects with a ProtocolError. */
  request(method, params = {}, { retry = false } = {}) {
    return new Promise((resolve, reject) => {
      const call = { method, params, resolve, reject, retry };
      if (this.#ready) this.#send(call);
      else if (retry) this.#outbox.push(call);
      else reject(disconnected());
    });
  }

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  #setState(state, extra = {}) {
    this.#emit("state", { state, ...extra });
  }

  #open() {
    this.#setState(this.#attempt === 0 ? "connecting" : "reconnecting");
    const socket = new WebSocket(this.#url);
    this.#socket = socket;
    socket.onmessage = (msg) => socket === this.#socket && this.#onFrame(msg.data);
    socket.onclose = (ev) => socket === this.#socket && this.#onClose(ev.code, ev.reason);
    this.#armWatchdog(HANDSHAKE_TIMEOUT_MS);
  }

  // A silent connection is a dead one: the server ticks every tick_interval_ms.
  #armWatchdog(ms = this.#silenceMs) {
    clearTimeout(this.#watchdog);
    this.#watchdog = setTimeout(() => this.#drop(4000, "no frames from server"), ms);
  }

  #drop(code, reason) {
    const socket = this.#socket;
    if (!socket) return;
    socket.close(code, reason);
    this.#onClose(code, reason); // do not wait for a close handshake a dead peer never sends
  }

  #onFrame(data) {
    this.#armWatchdog(this.#ready ? this.#silenceMs : HANDSHAKE_TIMEOUT_MS);
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      console.warn("skillyard: ignoring a frame that is not JSON");
      return;
    }
    if (frame.type === "res") this.#onResponse(frame);
    else if (frame.type === "event") this.#onEvent(frame);
  }

  #onResponse(frame) {
    const call = this.#pending.get(frame.id);
    if (!call) return;
    this.#pending.delete(frame.id);
    if (frame.ok) call.resolve(frame.payload);
    else call.reject(new ProtocolError(frame.error));
  }

  #onEvent(frame) {
    if (frame.event === "connect.challenge") {
      if (!this.#ready) this.#handshake();
    }
    else if (frame.event !== "tick" && this.#ready) this.#emit("event", frame);
  }

  async #handshake() {
    const call = { method: "connect", params: this.#connectParams() };
    const answer = new Promise((resolve, reject) => Object.assign(call, { resolve, reject }));
    this.#send(call);
    try {
      this.#onHello(await answer);
    } catch (err) {
      if (err.code === "unauthorized") this.#fail("unauthorized", err);
      else if (!err.retryable && err.code !== "disconnected") this.#fail("failed", err);
    }
  }

  #onHello(hello) {
    this.#ready = true;
    this.#attempt = 0;
    const tick = hello.limits?.tick_interval_ms;
    this.#silenceMs = tick ? tick * 2 + 5_000 : 60_000;
    this.#armWatchdog();
    this.#setState("connected");
    this.#emit("ready", hello);
    const queued = this.#outbox.splice(0);
    for (const call of queued) this.#send(call);
  }

  #fail(state, { code, message }) {
    this.#stopped = true;
    this.#drop(1000, state);
    this.#setState(state, { code, message });
  }

  #send(call) {
    const id = String(this.#nextId++);
    this.#pending.set(id, call);
    const frame = { type: "req", id, method: call.method, params: call.params };
    this.#socket.send(JSON.stringify(frame));
  }

  #onClose(code, reason) {
    clearTimeout(this.#watchdog);
    this.#socket = null;
    this.#ready = false;
    const inFlight = [...this.#pending.values()];
    this.#pending.clear();
    for (const call of inFlight) {
      if (call.retry) this.#outbox.push(call);
      else call.reject(disconnected());
    }
    if (code === CLOSE_UNAUTHORIZED) return this.#fail("unauthorized", { code, message: reason });
    if (this.#stopped) return undefined;
    const delayMs = backoffDelay(this.#attempt++);
    this.#setState("reconnecting", { code, delayMs });
    this.#reconnectTimer = setTimeout(() => this.#open(), delayMs);
    return undefined;
  }
}
