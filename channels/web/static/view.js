// Rendering of the conversation.  Model and user text only ever reaches the
// page through textContent: the one bit of markup we honour (``` fences) is
// parsed here into <pre><code> elements, never handed to innerHTML.

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Fill `target` with `text`, turning ``` fenced blocks into <pre><code>. */
export function renderText(target, text) {
  const parts = text.split("```");
  const nodes = parts.map((part, i) => {
    if (i % 2 === 0) return el("span", "prose", part);
    const body = part.replace(/^[\w+-]*\n/, ""); // drop a language tag line
    const pre = el("pre");
    pre.tabIndex = 0; // scrollable regions must be reachable by keyboard
    pre.append(el("code", "", body));
    return pre;
  });
  target.replaceChildren(...nodes);
}

function formatSize(size) {
  if (size < 1024) return `${size} bytes`;
  if (size < 1024 * 1024) return `${Math.round(size / 1024)} KB`;
  return `${(size / (1024 * 1024)).toFixed(1)} MB`;
}

export class ChatView {
  #list;
  #runs = new Map(); // run_id -> {item, body, tools, text}
  #tools = new Map(); // run_id + tool -> indicator element

  constructor(list) {
    this.#list = list;
  }

  clear() {
    this.#list.replaceChildren();
    this.#runs.clear();
    this.#tools.clear();
  }

  // Keep the newest text in view, unless the reader has scrolled up to read.
  #follow(change) {
    const scroller = this.#list.parentElement;
    const atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
    const result = change();
    if (atBottom) scroller.scrollTop = scroller.scrollHeight;
    return result;
  }

  #append(item) {
    return this.#follow(() => this.#list.appendChild(item));
  }

  #bubble(role, label) {
    const item = el("li", `msg ${role}`);
    item.append(el("span", "sr-only", `${label}: `));
    return item;
  }

  /** A user message; `pending` marks one we sent and the server has not echoed yet. */
  user(text, { pending = false } = {}) {
    const item = this.#bubble("user", "You");
    const body = el("div", "body");
    renderText(body, text);
    item.append(body);
    item.dataset.text = text;
    if (pending) item.classList.add("pending", "unconfirmed");
    return this.#append(item);
  }

  sent(item) {
    item.classList.remove("pending");
  }

  failed(item, message) {
    item.classList.remove("pending", "unconfirmed");
    item.classList.add("failed");
    item.append(el("p", "error", message));
  }

  /** Confirm the oldest pending bubble holding `text`; false if there is none. */
  confirmPending(text) {
    for (const item of this.#list.querySelectorAll(".msg.user.unconfirmed")) {
      if (item.dataset.text === text) {
        item.classList.remove("unconfirmed", "pending");
        return true;
      }
    }
    return false;
  }

  #run(runId) {
    let run = this.#runs.get(runId);
    if (!run) {
      const item = this.#bubble("assistant", "Assistant");
      const tools = el("ul", "tools");
      const body = el("div", "body");
      item.append(tools, body);
      item.setAttribute("aria-busy", "true"); // read it once, when complete
      run = { item, body, tools, text: "" };
      this.#runs.set(runId, run);
      this.#append(item);
    }
    return run;
  }

  typing(runId) {
    this.#run(runId).item.classList.add("typing");
  }

  delta(runId, text) {
    const run = this.#run(runId);
    run.text += text;
    this.#follow(() => renderText(run.body, run.text));
  }

  // The run is over: nothing is pending in it any more.
  #settle(run) {
    run.item.classList.remove("typing");
    run.item.setAttribute("aria-busy", "false");
    for (const actions of run.item.querySelectorAll(".approval .actions")) {
      actions.replaceWith(el("p", "decided", "Not answered: the reply ended."));
    }
  }

  final(runId, text, status) {
    const run = this.#run(runId);
    run.text = text;
    this.#follow(() => renderText(run.body, text));
    this.#settle(run);
    const note = { stopped: "Stopped.", failed: "Failed." }[status];
    if (note) run.item.append(el("p", "note", note));
  }

  tool(runId, tool, phase, detail) {
    const key = `${runId}\u0000${tool}`;
    let line = this.#tools.get(key);
    if (!line || phase === "start") {
      line = el("li", "tool");
      this.#tools.set(key, line);
      this.#run(runId).tools.append(line);
    }
    const outcome = { start: "…", end: "… done", error: "… failed" }[phase] ?? `… ${phase}`;
    const name = tool.replace("__", " · "); // exposed names are "<skill>__<tool>"
    line.textContent = `⚙ ${name}${outcome}${detail ? ` (${detail})` : ""}`;
    line.classList.toggle("failed", phase === "error");
  }

  /** A file the assistant sent: a download link (`download()` fetches it with the token). */
  file({ run_id: runId, name, size, caption }, href, download) {
    const item = el("p", "file");
    const link = el("a", "", `📎 ${name}`);
    link.href = href;
    link.download = name;
    link.addEventListener("click", (ev) => {
      ev.preventDefault();
      download();
    });
    item.append(link, el("span", "size", ` (${formatSize(size)})`));
    if (caption) item.append(el("span", "caption", ` ${caption}`));
    const run = this.#run(runId);
    this.#follow(() => run.item.append(item));
    return item;
  }

  /** The file of `item` (from `file()`) is no longer kept: its name, marked expired. */
  fileExpired(item, message) {
    const link = item.querySelector("a");
    if (!link) return; // marked already
    link.replaceWith(el("span", "name", link.textContent));
    item.classList.add("expired");
    const note = el("span", "expired", " expired");
    if (message) note.title = message; // why, and for how long files are kept
    item.append(note);
  }

  error(runId, code, message) {
    const run = this.#run(runId);
    this.#settle(run);
    run.item.append(el("p", "error", `Error ${code}: ${message}`));
  }

  /** A notice outside any run (a failed send, a lost session). */
  notice(text, kind = "info") {
    const item = el("li", `notice ${kind}`, text);
    if (kind === "error") item.setAttribute("role", "alert");
    return this.#append(item);
  }

  /** An approval card; `decide(decision)` is called when a button is pressed. */
  approval({ run_id: runId, request_id: requestId, tool, summary }, decide) {
    const card = el("div", "approval");
    card.dataset.requestId = requestId;
    card.append(el("p", "", `Allow ${tool}?`), el("p", "summary", summary));
    const buttons = el("div", "actions");
    for (const [decision, label] of [["approve", "Approve"], ["deny", "Deny"]]) {
      const button = el("button", decision, label);
      button.type = "button";
      button.addEventListener("click", () => {
        for (const b of buttons.children) b.disabled = true;
        decide(decision);
      });
      buttons.append(button);
    }
    card.append(buttons);
    const run = this.#run(runId);
    this.#follow(() => run.item.insertBefore(card, run.body));
    return card;
  }

  // After a restart the same request is asked again by a resumed run, so the
  // page can hold several cards for one id: answer the newest.
  approvalResolved(requestId, decision) {
    const cards = this.#list.querySelectorAll(`.approval[data-request-id="${CSS.escape(requestId)}"]`);
    const card = cards[cards.length - 1];
    if (!card) return;
    const word = { approve: "Approved", deny: "Denied" }[decision] ?? "Answered";
    const decided = el("p", "decided", word);
    const slot = card.querySelector(".actions") ?? card.querySelector(".decided");
    if (slot) slot.replaceWith(decided);
    else card.append(decided);
  }
}
