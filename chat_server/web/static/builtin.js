// The built-in chat UI: a thread list, the conversation with streamed replies, tool activity
// and task widgets, and a composer. It speaks the ChatKit protocol to /chatkit, like the
// official component, so either can show the same threads.

import { ChatKitClient, textInput } from "./client.js";
import { Conversation, PAGE_SIZE } from "./conversation.js";
import { el, replaceChildren } from "./dom.js";

const THREAD_KEY = "taskchat:thread";
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
    this.threadsEdited = 0; // bumped whenever this tab changes the chats list itself
    this.runs = 0; // turns and card actions started, to tell a page fetched before one
    this.tasksAskedAt = -Infinity; // performance.now() when the panel asked for this.tasks
    this.threadId = null;
    this.busy = false;
    this.#build();
    this.conversation = new Conversation({
      log: this.log,
      onAction: (itemId, action) => this.#action(itemId, action),
      loadOlder: (after) => this.client.request("items.list",
        { thread_id: this.threadId, after, limit: PAGE_SIZE, order: "desc" }),
      onError: (error, retry) => this.onError(error, retry),
    });
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
    // A list asked for before this tab started or renamed a chat is out of date when it
    // comes (a new chat would vanish from it): ask again.
    for (;;) {
      const edited = this.threadsEdited;
      const page = await this.client.request("threads.list", { limit: 50, order: "desc" });
      if (edited !== this.threadsEdited) continue;
      this.threads = page.data || [];
      break;
    }
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
        this.threadsEdited += 1;
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
    this.threadsEdited += 1;
    this.threads = this.threads.filter((t) => t.id !== thread.id);
    if (thread.id === this.threadId) this.newChat();
    else this.#renderThreads();
  }

  /** Show an empty conversation; the first message creates the thread. */
  newChat() {
    this.threadId = null;
    sessionStorage.removeItem(THREAD_KEY);
    this.conversation.clear(this.#welcome());
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
      const page = await this.#newest(threadId);
      this.threadId = threadId;
      sessionStorage.setItem(THREAD_KEY, threadId);
      this.conversation.reset(page);
      this.#syncWidgets();
      this.#renderThreads();
      this.input.focus();
      this.onNavigate();
    } catch (error) {
      this.onError(error, () => this.openThread(threadId));
    }
  }

  /** The thread's newest page of items, newest first. */
  #newest(threadId) {
    return this.client.request("items.list", { thread_id: threadId, limit: PAGE_SIZE, order: "desc" });
  }

  /**
   * Another tab (or device) changed a thread: show its new and changed items, and the
   * chats list as it is now. `threadId` null means only the list changed.
   */
  async heard(threadId) {
    if (this.busy) {
      this.heardWhileBusy = true; // this tab's own turn; looked at once it ends
      return;
    }
    try {
      await this.loadThreads();
      if (!this.threadId || (threadId && threadId !== this.threadId)) return;
      if (!this.threads.some((t) => t.id === this.threadId)) {
        this.newChat(); // deleted elsewhere
        return;
      }
      const [shown, runs] = [this.threadId, this.runs];
      const page = await this.#newest(shown);
      if (shown !== this.threadId) return;
      if (this.busy) {
        this.heardWhileBusy = true;
        return;
      }
      // A turn or a card's button ran meanwhile: this page may predate its changes (a
      // ticked card would turn back), so ask again.
      if (runs !== this.runs) return this.heard(threadId);
      if (!this.conversation.merge(page)) this.conversation.reset(page);
      this.#syncWidgets();
    } catch (error) {
      if (error.status !== 404) this.onError(error, () => this.heard(threadId));
    }
  }

  async send(raw) {
    const text = raw.trim();
    if (!text || this.busy) return;
    this.input.value = "";
    const [type, params] = this.threadId
      ? ["threads.add_user_message", { thread_id: this.threadId, input: textInput(text) }]
      : ["threads.create", { input: textInput(text) }];
    if (!this.threadId) this.conversation.clear();
    // Shown at once; the server's copy replaces it when it arrives.
    this.pendingUser?.remove();
    this.pendingUser = el("article", { class: "msg msg-user pending", "aria-label": "You" },
      el("p", { dir: "auto" }, text));
    this.log.append(this.pendingUser);
    this.conversation.scrollToEnd();
    const ok = await this.#run(type, params, () => this.send(text));
    if (!ok && this.pendingUser) {
      this.pendingUser.remove();
      this.pendingUser = null;
      this.input.value ||= text; // nothing was sent: give the words back
    }
  }

  /**
   * Bring the shown widgets up to date with the panel's tasks. A list asked for before the
   * server last sent a widget may predate that widget (a button pressed meanwhile), so it
   * must not turn it back; the refresh after every turn and action brings a newer list.
   */
  syncTasks(tasks, complete, startedAt = Infinity) {
    this.tasks = new Map(tasks.map((task) => [task.id, task]));
    this.tasksComplete = complete;
    this.tasksAskedAt = startedAt;
    this.#syncWidgets();
  }

  #syncWidgets() {
    // Also when a page of items is redrawn later: the list kept may still predate a widget.
    if (this.tasks && this.tasksAskedAt >= this.widgetsSentAt) {
      this.conversation.syncTasks(this.tasks, this.tasksComplete);
    }
  }

  async #action(itemId, action) {
    if (!this.threadId) return;
    await this.#run("threads.custom_action",
      { thread_id: this.threadId, item_id: itemId, action: { type: action.type, payload: action.payload } });
  }

  async #run(type, params, retry) {
    this.busy = true;
    this.runs += 1;
    this.sendButton.disabled = true;
    this.retry = retry;
    this.typing.hidden = false;
    this.conversation.appendLine(this.typing);
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
      if (this.heardWhileBusy) {
        this.heardWhileBusy = false;
        this.heard(null);
      }
    }
  }

  #onEvent(event) {
    switch (event.type) {
      case "thread.created":
        this.threadsEdited += 1;
        this.threadId = event.thread.id;
        sessionStorage.setItem(THREAD_KEY, this.threadId);
        this.threads.unshift(event.thread);
        this.#renderThreads();
        break;
      case "thread.updated": {
        this.threadsEdited += 1;
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
        this.conversation.upsert(event.item);
        // Not synced with the tasks here: the panel's copy may predate this very turn. The
        // turn's end refreshes the panel, which syncs every widget.
        if (event.item.type === "widget") this.widgetsSentAt = performance.now();
        break;
      case "thread.item.updated":
        this.conversation.update(event.item_id, event.update);
        break;
      case "thread.item.removed":
        this.conversation.remove(event.item_id);
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
    this.conversation.appendLine(notice);
    this.conversation.scrollToEnd();
  }
}
