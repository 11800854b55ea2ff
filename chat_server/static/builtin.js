// The built-in chat UI: a thread list, the conversation with streamed replies, tool activity
// and task widgets, and a composer. It speaks the ChatKit protocol to /chatkit, like the
// official component, so either can show the same threads.

import { ChatKitClient, textInput } from "./client.js";
import { el, replaceChildren } from "./dom.js";
import { renderWidget } from "./widgets.js";

const THREAD_KEY = "taskchat:thread";
const HISTORY_LIMIT = 100;
const EXAMPLES = ["add buy milk tomorrow", "what's due this week?", "show my tasks"];

export class BuiltinChat {
  /**
   * @param {object} opts
   * @param {string} opts.apiUrl  the ChatKit endpoint
   * @param {HTMLElement} opts.nav  where the thread list goes
   * @param {HTMLElement} opts.main  where the conversation goes
   * @param {() => void} opts.onChange  called after each turn and each widget action
   * @param {(error: Error) => void} opts.onError  called when a request fails
   */
  constructor({ apiUrl, nav, main, onChange, onError }) {
    this.client = new ChatKitClient(apiUrl);
    this.nav = nav;
    this.main = main;
    this.onChange = onChange;
    this.onError = onError;
    this.threads = [];
    this.threadId = null;
    this.items = new Map(); // item id -> item JSON, in display order
    this.nodes = new Map(); // item id -> its DOM node
    this.busy = false;
    this.#build();
  }

  #build() {
    this.threadList = el("ul", { class: "thread-list" });
    replaceChildren(this.nav,
      el("div", { class: "panel-head" },
        el("h2", {}, "Chats"),
        el("button", { type: "button", class: "small primary", id: "new-chat",
          onclick: () => this.newChat() }, "New chat")),
      this.threadList);
    this.nav.hidden = false;

    this.log = el("div", { id: "messages", class: "messages", role: "log",
      "aria-live": "polite", "aria-label": "Conversation" });
    this.progress = el("p", { class: "progress", role: "status", "aria-live": "polite" });
    this.input = el("textarea", { id: "composer-input", rows: 2, required: true,
      placeholder: "Ask me to add, list, change or complete tasks…",
      onkeydown: (event) => {
        if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
          event.preventDefault();
          this.form.requestSubmit();
        }
      } });
    this.sendButton = el("button", { type: "submit", class: "primary" }, "Send");
    this.form = el("form", { class: "composer", onsubmit: (event) => {
      event.preventDefault();
      this.send(this.input.value);
    } },
      el("label", { for: "composer-input", class: "visually-hidden" }, "Message"),
      this.input, this.sendButton);
    replaceChildren(this.main, this.log, this.progress, this.form);
  }

  /** Load the thread list and open the last thread this tab used, or the newest. */
  async start() {
    await this.loadThreads();
    const remembered = sessionStorage.getItem(THREAD_KEY);
    const first = this.threads.find((t) => t.id === remembered) || this.threads[0];
    if (first) await this.openThread(first.id);
    else this.newChat();
  }

  async loadThreads() {
    const page = await this.client.request("threads.list", { limit: 50, order: "desc" });
    this.threads = page.data || [];
    this.#renderThreads();
  }

  #renderThreads() {
    const rows = this.threads.map((thread) => {
      const title = thread.title || "New chat";
      const current = thread.id === this.threadId;
      return el("li", { class: `thread${current ? " current" : ""}`, dataset: { threadId: thread.id } },
        el("button", { type: "button", class: "thread-open", "aria-current": current ? "true" : undefined,
          onclick: () => this.openThread(thread.id) }, title),
        el("button", { type: "button", class: "icon", "aria-label": `Rename chat: ${title}`,
          title: "Rename", onclick: (event) => this.#rename(thread, event.currentTarget.closest("li")) },
          "✎"),
        el("button", { type: "button", class: "icon danger", "aria-label": `Delete chat: ${title}`,
          title: "Delete", onclick: () => this.#delete(thread) }, "✕"));
    });
    replaceChildren(this.threadList, rows.length ? rows
      : el("li", { class: "muted empty" }, "No chats yet."));
  }

  #rename(thread, row) {
    const input = el("input", { type: "text", value: thread.title || "", maxlength: 200,
      "aria-label": "New chat title", required: true });
    const cancel = () => this.#renderThreads();
    const form = el("form", { class: "rename", onsubmit: async (event) => {
      event.preventDefault();
      const title = input.value.trim();
      if (!title) return;
      try {
        const saved = await this.client.request("threads.update", { thread_id: thread.id, title });
        thread.title = saved.title;
      } catch (error) {
        this.onError(error);
      }
      this.#renderThreads();
    } },
      input,
      el("button", { type: "submit", class: "small primary" }, "Save"),
      el("button", { type: "button", class: "small", onclick: cancel }, "Cancel"));
    input.addEventListener("keydown", (event) => {
      if (event.key === "Escape") cancel();
    });
    replaceChildren(row, form);
    input.focus();
    input.select();
  }

  async #delete(thread) {
    if (!confirm(`Delete the chat "${thread.title || "New chat"}"? This cannot be undone.`)) return;
    try {
      await this.client.request("threads.delete", { thread_id: thread.id });
    } catch (error) {
      this.onError(error);
      return;
    }
    this.threads = this.threads.filter((t) => t.id !== thread.id);
    if (thread.id === this.threadId) this.newChat();
    else this.#renderThreads();
  }

  /** Show an empty conversation; the first message creates the thread. */
  newChat() {
    this.threadId = null;
    sessionStorage.removeItem(THREAD_KEY);
    this.items.clear();
    this.nodes.clear();
    replaceChildren(this.log, this.#welcome());
    this.#renderThreads();
    this.input.focus();
  }

  #welcome() {
    return el("div", { class: "welcome" },
      el("p", {}, "What needs doing? Try one of these, or write your own:"),
      el("div", { class: "examples" }, EXAMPLES.map((text) =>
        el("button", { type: "button", class: "small", onclick: () => this.send(text) }, text))));
  }

  async openThread(threadId) {
    try {
      const page = await this.client.request("items.list",
        { thread_id: threadId, limit: HISTORY_LIMIT, order: "desc" });
      this.threadId = threadId;
      sessionStorage.setItem(THREAD_KEY, threadId);
      this.items.clear();
      this.nodes.clear();
      replaceChildren(this.log);
      for (const item of (page.data || []).reverse()) this.#upsert(item);
      this.#renderThreads();
      this.#scroll(true);
    } catch (error) {
      this.onError(error);
    }
  }

  async send(raw) {
    const text = raw.trim();
    if (!text || this.busy) return;
    this.input.value = "";
    const [type, params] = this.threadId
      ? ["threads.add_user_message", { thread_id: this.threadId, input: textInput(text) }]
      : ["threads.create", { input: textInput(text) }];
    if (!this.threadId) replaceChildren(this.log);
    await this.#run(type, params);
  }

  async #action(itemId, action) {
    if (!this.threadId) return;
    await this.#run("threads.custom_action",
      { thread_id: this.threadId, item_id: itemId, action: { type: action.type, payload: action.payload } });
  }

  async #run(type, params) {
    this.busy = true;
    this.sendButton.disabled = true;
    this.progress.textContent = "Working…";
    // Screen readers announce the finished reply once, not every streamed fragment.
    this.log.setAttribute("aria-busy", "true");
    try {
      await this.client.stream(type, params, (event) => this.#onEvent(event));
    } catch (error) {
      this.onError(error);
    } finally {
      this.busy = false;
      this.log.removeAttribute("aria-busy");
      this.sendButton.disabled = false;
      this.progress.textContent = "";
      this.onChange();
    }
  }

  #onEvent(event) {
    switch (event.type) {
      case "thread.created":
        this.threadId = event.thread.id;
        sessionStorage.setItem(THREAD_KEY, this.threadId);
        this.threads.unshift(event.thread);
        this.#renderThreads();
        break;
      case "thread.updated": {
        const thread = this.threads.find((t) => t.id === event.thread.id);
        if (thread) Object.assign(thread, { title: event.thread.title, status: event.thread.status });
        this.#renderThreads();
        break;
      }
      case "thread.item.added":
      case "thread.item.done":
      case "thread.item.replaced":
        this.#upsert(event.item);
        break;
      case "thread.item.updated":
        this.#update(event.item_id, event.update);
        break;
      case "thread.item.removed":
        this.items.delete(event.item_id);
        this.nodes.get(event.item_id)?.remove();
        this.nodes.delete(event.item_id);
        break;
      case "progress_update":
        this.progress.textContent = event.text;
        break;
      case "error":
        this.#notice("error", event.message || "Something went wrong while answering. Please retry.");
        break;
      case "notice":
        this.#notice(event.level, event.message);
        break;
      default:
        break; // stream_options, client_effect: nothing to show.
    }
  }

  #notice(level, text) {
    this.log.append(el("p", { class: `inline-notice ${level}`, role: "alert" }, text));
    this.#scroll(true);
  }

  #update(itemId, update) {
    const item = this.items.get(itemId);
    if (!item) return;
    switch (update.type) {
      case "assistant_message.content_part.added":
      case "assistant_message.content_part.done":
        item.content = item.content || [];
        item.content[update.content_index] = update.content;
        break;
      case "assistant_message.content_part.text_delta": {
        item.content = item.content || [];
        const part = item.content[update.content_index] || { type: "output_text", text: "" };
        part.text += update.delta;
        item.content[update.content_index] = part;
        break;
      }
      case "workflow.task.added":
      case "workflow.task.updated":
        item.workflow.tasks[update.task_index] = update.task;
        break;
      case "widget.root.updated":
        item.widget = update.widget;
        break;
      default:
        return;
    }
    this.#upsert(item);
  }

  #upsert(item) {
    const nearBottom = this.#nearBottom();
    this.items.set(item.id, item);
    const node = this.#render(item);
    const old = this.nodes.get(item.id);
    if (!node) {
      old?.remove();
      this.nodes.delete(item.id);
      return;
    }
    node.dataset.itemId = item.id;
    node.dataset.itemType = item.type;
    // A keyboard user who pressed a widget button keeps focus in the redrawn widget.
    const focused = old && old.contains(document.activeElement)
      ? [...old.querySelectorAll("button")].indexOf(document.activeElement) : -1;
    if (old) old.replaceWith(node);
    else this.log.append(node);
    if (focused >= 0) {
      const buttons = node.querySelectorAll("button");
      (buttons[Math.min(focused, buttons.length - 1)] || this.input).focus();
    }
    this.nodes.set(item.id, node);
    this.#scroll(nearBottom);
  }

  #render(item) {
    switch (item.type) {
      case "user_message":
        return el("article", { class: "msg msg-user", "aria-label": "You" },
          el("p", {}, (item.content || []).map((part) => part.text).join("")));
      case "assistant_message":
        return el("article", { class: "msg msg-assistant", "aria-label": "taskchat" },
          (item.content || []).map((part) => el("p", {}, part.text)));
      case "workflow":
        return this.#workflow(item.workflow);
      case "widget":
        return el("div", { class: "msg msg-widget" },
          renderWidget(item.widget, (action) => this.#action(item.id, action)));
      case "task":
        return el("div", { class: "workflow" }, item.task.title || "", " ", item.task.content || "");
      default:
        return null; // end_of_turn, hidden context, and kinds this UI does not show.
    }
  }

  #workflow(workflow) {
    const tasks = workflow.tasks || [];
    const running = tasks.some((task) => task.status_indicator === "loading");
    const summary = running ? "Working with your tasks…"
      : `Tool activity (${tasks.length} ${tasks.length === 1 ? "call" : "calls"})`;
    return el("details", { class: "workflow", open: true },
      el("summary", {}, summary),
      el("ul", {}, tasks.map((task) => el("li", { class: `wf-task wf-${task.status_indicator || "none"}` },
        el("span", { class: "wf-mark", "aria-hidden": "true" },
          task.status_indicator === "loading" ? "…" : "✓"),
        el("span", { class: "wf-title" }, task.title || task.type),
        task.content ? el("span", { class: "wf-content" }, ` — ${task.content}`) : null))));
  }

  #nearBottom() {
    const log = this.log;
    return log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  }

  #scroll(force) {
    if (force) this.log.scrollTop = this.log.scrollHeight;
  }
}
