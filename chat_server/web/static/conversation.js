// One thread's messages in the page: its items as DOM nodes, kept in step one item at a
// time. Only an item that changed is drawn again; streamed text is drawn at most once a
// frame; older items come a page at a time as the user scrolls up, and the oldest are let
// go again once many are shown, so a long thread costs what a short one does.

import { el, replaceChildren } from "./dom.js";
import { renderMarkdown } from "./markdown.js";
import { renderWidget, syncWidget, taskIdsOf } from "./widgets.js";

export const PAGE_SIZE = 40; // items per items.list page: a few screens of conversation
const MAX_SHOWN = 160; // beyond this, the oldest go when the user is at the bottom
const NEAR_BOTTOM_PX = 80;
const LOAD_AHEAD_PX = 400; // start loading older items this far before the top shows

export class Conversation {
  /**
   * @param {object} opts
   * @param {HTMLElement} opts.log  the scrolling element the items go in
   * @param {(itemId: string, action: object) => Promise<void>} opts.onAction  a widget button
   * @param {(after: string) => Promise<{data: object[], has_more: boolean, after: ?string}>} opts.loadOlder
   *   the page of items before `after`, newest first (items.list, order desc)
   * @param {(error: Error, retry: () => void) => void} opts.onError
   */
  constructor({ log, onAction, loadOlder, onError }) {
    this.log = log;
    this.onAction = onAction;
    this.loadOlder = loadOlder;
    this.onError = onError;
    this.items = new Map(); // id -> item as shown (widgets brought up to date)
    this.order = []; // ids, oldest first
    this.nodes = new Map(); // id -> DOM node
    this.sent = new Map(); // id -> the server's JSON of it, to tell a changed item
    this.synced = new Map(); // widget item id -> its tasks' state when it was last synced
    this.dirty = new Set(); // ids to draw at the next frame
    this.cursor = null; // items.list `after` for the items before the oldest shown
    this.loading = null;
    this.olderButton = el("button", { type: "button", class: "small",
      onclick: () => this.older() }, "Show older messages");
    this.olderRow = el("div", { class: "older", hidden: true }, this.olderButton);
    this.observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) this.older();
    }, { root: log, rootMargin: `${LOAD_AHEAD_PX}px 0px 0px 0px` });
    this.observer.observe(this.olderRow);
  }

  /** Show a thread's newest page (items.list, order desc), scrolled to the end. */
  reset(page) {
    this.items.clear();
    this.order = [];
    this.nodes.clear();
    this.sent.clear();
    this.synced.clear();
    this.dirty.clear();
    replaceChildren(this.log, this.olderRow);
    this.#prepend(page);
    this.scrollToEnd();
  }

  /** Show nothing (a new chat), with `content` in place of the items. */
  clear(...content) {
    this.reset({ data: [], has_more: false });
    this.log.append(...content);
  }

  /** Load the page before the oldest item shown, keeping what is on screen in place. */
  async older() {
    if (!this.cursor || this.loading) return;
    const cursor = this.cursor;
    this.loading = this.loadOlder(cursor);
    this.olderButton.textContent = "Loading older messages…";
    try {
      const page = await this.loading;
      if (cursor !== this.cursor) return; // the thread changed meanwhile
      const fromBottom = this.log.scrollHeight - this.log.scrollTop;
      // Older messages are not news: screen readers should not read them out.
      this.log.setAttribute("aria-busy", "true");
      this.#prepend(page);
      this.log.scrollTop = this.log.scrollHeight - fromBottom;
      this.log.removeAttribute("aria-busy");
    } catch (error) {
      this.onError(error, () => this.older());
    } finally {
      this.loading = null;
      this.olderButton.textContent = "Show older messages";
      // Observed anew, so a page too short to push the top out of view loads the next.
      this.observer.unobserve(this.olderRow);
      this.observer.observe(this.olderRow);
    }
  }

  #prepend(page) {
    const items = [...(page.data || [])].reverse().filter((item) => !this.items.has(item.id));
    const fragment = document.createDocumentFragment();
    for (const item of items) {
      this.items.set(item.id, item);
      this.sent.set(item.id, JSON.stringify(item));
    }
    this.order = [...items.map((item) => item.id), ...this.order];
    for (const item of items) {
      const node = this.#node(item);
      if (node) fragment.append(node);
    }
    this.olderRow.after(fragment);
    this.cursor = page.has_more ? page.after : null;
    this.olderRow.hidden = !this.cursor;
  }

  /**
   * Bring the shown items in line with the thread's newest page, as another tab left it:
   * new items are added, changed ones drawn again, the rest left alone. False when the
   * page does not reach back to what is shown (too much happened): reset() it then.
   */
  merge(page) {
    const data = [...(page.data || [])].reverse();
    if (page.has_more && this.order.length && !data.some((item) => this.items.has(item.id))) {
      return false;
    }
    for (const item of data) {
      const json = JSON.stringify(item);
      if (this.sent.get(item.id) === json) continue;
      this.upsert(item);
    }
    return true;
  }

  /** Add an item at the end, or draw an existing one again (at the next frame). */
  upsert(item) {
    if (!this.items.has(item.id)) {
      this.order.push(item.id);
      this.#trim();
    }
    this.items.set(item.id, item);
    this.sent.set(item.id, JSON.stringify(item));
    this.synced.delete(item.id);
    this.#redraw(item.id);
    if (item.type === "widget") this.#redraw(this.#before(item.id));
  }

  /** Apply a streamed `thread.item.updated` change to its item. */
  update(itemId, update) {
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
        this.synced.delete(itemId);
        break;
      default:
        return;
    }
    this.sent.set(itemId, JSON.stringify(item));
    this.#redraw(itemId);
  }

  remove(itemId) {
    this.items.delete(itemId);
    this.sent.delete(itemId);
    this.synced.delete(itemId);
    this.order = this.order.filter((id) => id !== itemId);
    this.nodes.get(itemId)?.remove();
    this.nodes.delete(itemId);
  }

  /**
   * Bring task widgets in line with the tasks as they are now. Only a widget whose tasks
   * changed since it was last brought in line is looked at, and only a changed one drawn.
   */
  syncTasks(tasks, complete) {
    for (const id of this.order) {
      const item = this.items.get(id);
      if (item.type !== "widget") continue;
      const state = taskIdsOf(item.widget).map((taskId) => {
        const task = tasks.get(taskId);
        return task ? `${taskId}:${task.completed}` : `${taskId}:${complete ? "gone" : "?"}`;
      }).join(",");
      if (this.synced.get(id) === state) continue;
      this.synced.set(id, state);
      const widget = syncWidget(item.widget, tasks, complete);
      if (!widget) continue;
      item.widget = widget;
      this.#redraw(id);
      this.#redraw(this.#before(id));
    }
  }

  /** Put a non-item line (a notice, the typing dots) at the end. */
  appendLine(node) {
    const atEnd = this.nearBottom();
    this.log.append(node);
    if (atEnd) this.scrollToEnd();
  }

  nearBottom() {
    const log = this.log;
    return log.scrollHeight - log.scrollTop - log.clientHeight < NEAR_BOTTOM_PX;
  }

  scrollToEnd() {
    this.log.scrollTop = this.log.scrollHeight;
  }

  #before(id) {
    const index = this.order.indexOf(id);
    return index > 0 ? this.order[index - 1] : null;
  }

  #redraw(id) {
    if (!id || !this.items.has(id)) return;
    this.dirty.add(id);
    if (this.dirty.size > 1) return; // a frame is already asked for
    // A hidden tab gets no frames: it draws at once.
    if (document.visibilityState === "visible") requestAnimationFrame(() => this.flush());
    else queueMicrotask(() => this.flush());
  }

  /** Draw every item changed since the last frame, then follow the end if the user was there. */
  flush() {
    if (!this.dirty.size) return;
    const atEnd = this.nearBottom();
    const ids = [...this.dirty];
    this.dirty.clear();
    for (const id of ids) {
      const item = this.items.get(id);
      if (!item) continue;
      const old = this.nodes.get(id);
      const node = this.#node(item);
      // A keyboard user who pressed a widget button keeps focus in the redrawn widget.
      const focused = old && old.contains(document.activeElement)
        ? [...old.querySelectorAll("button")].indexOf(document.activeElement) : -1;
      if (old && node) old.replaceWith(node);
      else if (old) old.remove();
      else if (node) this.#insert(id, node);
      if (node && focused >= 0) {
        const buttons = node.querySelectorAll("button");
        // A card that lost its buttons (its task deleted) takes the focus itself.
        const target = buttons[Math.min(focused, buttons.length - 1)] || node;
        if (target === node) node.tabIndex = -1;
        target.focus();
      }
    }
    if (atEnd) this.scrollToEnd();
  }

  /** A new item's node, after the node of the item before it (or at the end). */
  #insert(id, node) {
    const index = this.order.indexOf(id);
    for (let i = index + 1; i < this.order.length; i += 1) {
      const next = this.nodes.get(this.order[i]);
      if (next) {
        next.before(node);
        return;
      }
    }
    const last = this.log.lastElementChild;
    if (last?.classList.contains("typing")) last.before(node); // the dots stay last
    else this.log.append(node);
  }

  /** Let the oldest items go once many are shown, if the user is reading the end. */
  #trim() {
    if (this.order.length <= MAX_SHOWN || !this.nearBottom()) return;
    const gone = this.order.splice(0, this.order.length - MAX_SHOWN + PAGE_SIZE);
    for (const id of gone) {
      this.nodes.get(id)?.remove();
      for (const map of [this.items, this.nodes, this.sent, this.synced]) map.delete(id);
    }
    this.cursor = this.order[0];
    this.olderRow.hidden = false;
  }

  #node(item) {
    const node = this.#render(item);
    if (node) {
      node.dataset.itemId = item.id;
      node.dataset.itemType = item.type;
      this.nodes.set(item.id, node);
    } else {
      this.nodes.delete(item.id);
    }
    return node;
  }

  #render(item) {
    switch (item.type) {
      case "user_message":
        return el("article", { class: "msg msg-user", "aria-label": "You" },
          el("p", { dir: "auto" }, (item.content || []).map((part) => part.text).join("")));
      case "assistant_message": {
        const text = (item.content || []).map((part) => part.text).join("\n\n");
        return el("article", { class: "msg msg-assistant markdown", "aria-label": "taskchat",
          dir: "auto" }, renderMarkdown(this.#listShownBelow(item.id) ? leadOf(text) : text));
      }
      case "workflow":
        return workflowNode(item.workflow);
      case "widget":
        return el("div", { class: "msg msg-widget" },
          renderWidget(item.widget, (action) => this.onAction(item.id, action)));
      case "task":
        return el("div", { class: "workflow", dir: "auto" }, item.task.title || "", " ",
          item.task.content || "");
      default:
        return null; // end_of_turn, hidden context, and kinds this UI does not show.
    }
  }

  /** True when a list widget follows this reply in its turn: the reply need not repeat it. */
  #listShownBelow(itemId) {
    for (let i = this.order.indexOf(itemId) + 1; i < this.order.length; i += 1) {
      const item = this.items.get(this.order[i]);
      if (item.type === "user_message") return false;
      if (item.type === "widget") return item.widget?.type === "ListView";
    }
    return false;
  }
}

function workflowNode(workflow) {
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
      el("span", { class: "wf-content", dir: "auto" }, words));
  }));
}

/** The reply's lead-in ("You have 3 tasks:") without the list a widget shows below it. */
function leadOf(text) {
  const lines = text.split("\n");
  const listStart = lines.findIndex((line) => /^\s*([-*•]|\d+[.)]|#\d+)\s/.test(line));
  return listStart > 0 ? lines.slice(0, listStart).join("\n") : text;
}
