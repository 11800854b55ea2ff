// The built-in chat UI: a thread list, the conversation with streamed replies, tool activity
// and task widgets, and a composer. It speaks the ChatKit protocol to /chatkit, like the
// official component, so either can show the same threads.

import { ChatKitClient, textInput } from "./client.js";
import { el, replaceChildren } from "./dom.js";
import { renderMarkdown } from "./markdown.js";
import { renderWidget, syncWidget } from "./widgets.js";

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
   * @param {(error: Error, retry?: () => void) => void} opts.onError  a request failed
   * @param {() => void} opts.onNavigate  a chat was chosen (a phone's sheet closes)
   */
  constructor({ apiUrl, nav, main, onChange, onError, onNavigate = () => {} }) {
    this.client = new ChatKitClient(apiUrl);
    this.nav = nav;
    this.main = main;
    this.onChange = onChange;
    this.onError = onError;
    this.onNavigate = onNavigate;
    this.tasks = null; // id -> task, from the tasks panel, to keep widgets current
    this.tasksComplete = false;
    this.widgetsSentAt = -Infinity; // performance.now() when the server last sent a widget
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
        el("div", { class: "panel-actions" },
          el("button", { type: "button", class: "small primary", id: "new-chat",
            onclick: () => this.newChat() }, "New chat"),
          el("button", { type: "button", class: "small sheet-close",
            onclick: () => this.onNavigate() }, "Close"))),
      this.threadList);
    this.nav.hidden = false;

    this.log = el("div", { id: "messages", class: "messages", role: "log",
      "aria-live": "polite", "aria-label": "Conversation" });
    this.progress = el("p", { class: "progress", role: "status", "aria-live": "polite" });
    this.typing = el("div", { class: "typing", hidden: true },
      el("span", { class: "visually-hidden" }, "taskchat is typing"),
      el("span", { class: "dot", "aria-hidden": "true" }), el("span", { class: "dot", "aria-hidden": "true" }),
      el("span", { class: "dot", "aria-hidden": "true" }));
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
    // The composer comes first in the DOM (CSS shows it at the bottom), so the tab path
    // reaches it before the buttons of every old widget in the conversation.
    // Cards' titles are h3: this h2 keeps the outline h1, h2, h3 where the chats list and
    // its own h2 are hidden, as on a phone.
    const heading = el("h2", { class: "visually-hidden" }, "Conversation");
    replaceChildren(this.main, heading, this.form, this.log, this.progress);
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
    this.onNavigate();
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
      for (const item of [...this.items.values()]) {
        if (item.type === "widget") this.#refreshReplyBefore(item.id);
      }
      this.#syncWidgets();
      this.#renderThreads();
      this.#scroll(true);
      this.input.focus();
      this.onNavigate();
    } catch (error) {
      this.onError(error, () => this.openThread(threadId));
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
    // Shown at once; the server's copy replaces it when it arrives.
    this.pendingUser?.remove();
    this.pendingUser = el("article", { class: "msg msg-user pending", "aria-label": "You" },
      el("p", {}, text));
    this.log.append(this.pendingUser);
    this.#scroll(true);
    const ok = await this.#run(type, params, () => this.send(text));
    if (!ok && this.pendingUser) {
      this.pendingUser.remove();
      this.pendingUser = null;
      this.input.value ||= text; // nothing was sent: give the words back
    }
  }

  /** Keep the task widgets shown in step with the tasks as they are now. */
  /**
   * Bring the shown widgets up to date with the panel's tasks. A list asked for before the
   * server last sent a widget may predate that widget (a button pressed meanwhile), so it
   * must not turn it back; the refresh after every turn and action brings a newer list.
   */
  syncTasks(tasks, complete, startedAt = Infinity) {
    this.tasks = new Map(tasks.map((task) => [task.id, task]));
    this.tasksComplete = complete;
    if (startedAt >= this.widgetsSentAt) this.#syncWidgets();
  }

  #syncWidgets() {
    if (!this.tasks) return;
    for (const item of this.items.values()) {
      if (item.type !== "widget") continue;
      const widget = syncWidget(item.widget, this.tasks, this.tasksComplete);
      if (widget) this.#upsert({ ...item, widget });
    }
  }

  async #action(itemId, action) {
    if (!this.threadId) return;
    await this.#run("threads.custom_action",
      { thread_id: this.threadId, item_id: itemId, action: { type: action.type, payload: action.payload } });
  }

  async #run(type, params, retry) {
    this.busy = true;
    this.sendButton.disabled = true;
    this.retry = retry;
    this.log.append(this.typing);
    this.typing.hidden = false;
    // Screen readers announce the finished reply once, not every streamed fragment.
    this.log.setAttribute("aria-busy", "true");
    try {
      await this.client.stream(type, params, (event) => this.#onEvent(event));
      return true;
    } catch (error) {
      this.onError(error, retry);
      return false;
    } finally {
      this.busy = false;
      this.typing.hidden = true;
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
        if (event.item.type === "user_message" && this.pendingUser) {
          this.pendingUser.remove();
          this.pendingUser = null;
        }
        if (event.item.type === "assistant_message" || event.item.type === "widget") {
          this.typing.hidden = true;
        }
        this.#upsert(event.item);
        // Not synced with the tasks here: the panel's copy may predate this very turn. The
        // turn's end refreshes the panel, which syncs every widget.
        if (event.item.type === "widget") {
          this.widgetsSentAt = performance.now();
          this.#refreshReplyBefore(event.item.id);
        }
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
        this.#notice("error", event.message || "Something went wrong while answering.",
          event.allow_retry === false ? null : this.retry);
        break;
      case "notice":
        this.#notice(event.level, event.message);
        break;
      default:
        break; // stream_options, client_effect: nothing to show.
    }
  }

  #notice(level, text, retry = null) {
    const notice = el("div", { class: `inline-notice ${level}`, role: "alert" }, el("span", {}, text),
      retry ? el("button", { type: "button", class: "small", onclick: () => {
        notice.remove();
        retry();
      } }, "Retry") : null);
    this.log.append(notice);
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
      case "assistant_message": {
        const text = (item.content || []).map((part) => part.text).join("\n\n");
        return el("article", { class: "msg msg-assistant markdown", "aria-label": "taskchat" },
          renderMarkdown(this.#listShownBelow(item.id) ? leadOf(text) : text));
      }
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

  /** True when a list widget follows this reply in its turn: the reply need not repeat it. */
  #listShownBelow(itemId) {
    let after = false;
    for (const item of this.items.values()) {
      if (item.id === itemId) after = true;
      else if (after && item.type === "user_message") return false;
      else if (after && item.type === "widget") return item.widget?.type === "ListView";
    }
    return false;
  }

  #workflow(workflow) {
    // One plain line per call ("Added “Buy milk”"); a failed call gets a red mark.
    const tasks = workflow.tasks || [];
    return el("ul", { class: "workflow" }, tasks.map((task) => {
      const state = task.status_indicator === "loading" ? "loading"
        : task.status_indicator === "none" ? "failed" : "done";
      const words = state === "loading" ? "Working on your tasks…" : task.content || task.title;
      return el("li", { class: `wf-task wf-${state}`, title: task.title || undefined },
        el("span", { class: "wf-mark", "aria-hidden": "true" },
          { loading: "…", failed: "✕", done: "✓" }[state]),
        state === "failed" ? el("span", { class: "visually-hidden" }, "Failed: ") : null,
        el("span", { class: "wf-content" }, words));
    }));
  }

  #refreshReplyBefore(widgetId) {
    let previous = null;
    for (const item of this.items.values()) {
      if (item.id === widgetId) break;
      previous = item;
    }
    if (previous?.type === "assistant_message") this.#upsert(previous);
  }

  #nearBottom() {
    const log = this.log;
    return log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  }

  #scroll(force) {
    if (force) this.log.scrollTop = this.log.scrollHeight;
  }
}

/** The reply's lead-in ("You have 3 tasks:") without the list a widget shows below it. */
function leadOf(text) {
  const lines = text.split("\n");
  const listStart = lines.findIndex((line) => /^\s*([-*•]|\d+[.)]|#\d+)\s/.test(line));
  return listStart > 0 ? lines.slice(0, listStart).join("\n") : text;
}
