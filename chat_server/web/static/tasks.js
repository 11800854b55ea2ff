// The tasks panel: the user's tasks grouped Overdue / Today / Upcoming / No date / Done,
// each with a real checkbox, a quick-add field with an optional date and time, and an undo
// toast after completing or deleting. It refetches when the live stream says so.

import { getJson, sendJson } from "./client.js";
import { dueFromInputs, dueText, groupOf, isOverdue, parseDue } from "./dates.js";
import { el, replaceChildren } from "./dom.js";

const GROUPS = [["overdue", "Overdue"], ["today", "Today"], ["upcoming", "Upcoming"],
  ["nodate", "No date"], ["done", "Done"]];
const TOAST_MS = 8000;
const PRIORITY_WORD = { high: "High priority", low: "Low priority" };

function byDue(a, b) {
  const at = (task) => parseDue(task.due)?.at.getTime() ?? Infinity;
  return at(a) - at(b) || a.id - b.id;
}

export class TasksPanel {
  /**
   * @param {object} opts
   * @param {HTMLElement} opts.root  the panel, holding #task-list, #tasks-summary, #quick-add
   * @param {HTMLElement} opts.toast  where undo toasts appear
   * @param {(tasks: object[], complete: boolean, startedAt: number) => void} opts.onTasks
   *   after each load, with the performance.now() at which the load was asked for
   * @param {(error: Error, retry?: () => void) => void} opts.onError
   * @param {() => void} opts.onOk  a request worked: clear any banner
   */
  constructor({ root, toast, onTasks, onError, onOk }) {
    this.list = root.querySelector("#task-list");
    this.summary = root.querySelector("#tasks-summary");
    this.toast = toast;
    this.onTasks = onTasks;
    this.onError = onError;
    this.onOk = onOk;
    this.tasks = [];
    this.pending = null;
    this.again = false;
    root.querySelector("#refresh-tasks").addEventListener("click", () => this.refresh());
    this.#wireQuickAdd(root.querySelector("#quick-add"));
    // Groups and "overdue" move with the clock, not only with changes.
    setInterval(() => this.#render(), 60_000);
  }

  /** Reload the tasks; calls made while one runs share one more load after it. */
  refresh() {
    if (this.pending) {
      this.again = true;
      return this.pending;
    }
    this.pending = this.#load().finally(() => {
      this.pending = null;
      if (this.again) {
        this.again = false;
        this.refresh();
      }
    });
    return this.pending;
  }

  async #load() {
    this.list.setAttribute("aria-busy", "true");
    const startedAt = performance.now();
    try {
      const page = await getJson("/api/tasks");
      this.tasks = page.tasks;
      this.#render();
      this.onOk();
      this.onTasks(this.tasks, page.next_cursor === null, startedAt);
    } catch (error) {
      this.summary.textContent = "Could not load your tasks.";
      this.onError(error, () => this.refresh());
    } finally {
      this.list.removeAttribute("aria-busy");
    }
  }

  #wireQuickAdd(form) {
    const title = form.querySelector("#quick-add-title");
    const date = form.querySelector("#quick-add-date");
    const time = form.querySelector("#quick-add-time");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const text = title.value.trim();
      if (!text) return;
      const due = dueFromInputs(date.value, time.value);
      const ok = await this.#change(() => sendJson("/api/tasks", due ? { title: text, due }
        : { title: text }));
      if (ok) {
        form.reset();
        title.focus();
      }
    });
  }

  async #change(request) {
    try {
      const result = await request();
      this.onOk();
      await this.refresh();
      return result;
    } catch (error) {
      this.onError(error, () => this.#change(request));
      await this.refresh();
      return null;
    }
  }

  async #setDone(task, completed) {
    const done = await this.#change(() =>
      sendJson(`/api/tasks/${task.id}/complete`, { completed }));
    if (done && completed) {
      this.#toast(`Completed “${task.title}”`, () =>
        this.#change(() => sendJson(`/api/tasks/${task.id}/complete`, { completed: false })));
    }
  }

  async #delete(task) {
    const done = await this.#change(() => sendJson(`/api/tasks/${task.id}`, {}, "DELETE"));
    if (!done) return;
    const { title, due, description, priority, tags, recurrence } = task;
    this.#toast(`Deleted “${title}”`, () => this.#change(() => sendJson("/api/tasks",
      { title, due, description, priority, tags, recurrence })));
  }

  #toast(text, undo) {
    clearTimeout(this.toastTimer);
    const hide = () => replaceChildren(this.toast);
    replaceChildren(this.toast, el("div", { class: "toast" },
      el("span", {}, text),
      el("button", { type: "button", class: "small", onclick: () => { hide(); undo(); } }, "Undo")));
    this.toastTimer = setTimeout(hide, TOAST_MS);
  }

  #render() {
    const now = new Date();
    const open = this.tasks.filter((t) => !t.completed).length;
    const overdue = this.tasks.filter((t) => isOverdue(t, now)).length;
    this.summary.textContent = this.tasks.length
      ? `${open} open${overdue ? `, ${overdue} overdue` : ""}, ${this.tasks.length - open} done`
      : "No tasks yet. Add one here or ask the chat.";
    const groups = GROUPS.map(([key, label]) => {
      const tasks = this.tasks.filter((t) => groupOf(t, now) === key).sort(byDue);
      if (!tasks.length) return null;
      if (key === "done") tasks.reverse();
      return el("li", { class: `task-group g-${key}`, dataset: { group: key } },
        el("h3", { class: "group-title", id: `group-${key}` }, label,
          el("span", { class: "count" }, ` ${tasks.length}`)),
        el("ul", { "aria-labelledby": `group-${key}` }, tasks.map((t) => this.#row(t, now))));
    });
    replaceChildren(this.list, groups);
  }

  #row(task, now) {
    const overdue = isOverdue(task, now);
    const box = el("input", { type: "checkbox", checked: task.completed,
      onchange: () => this.#setDone(task, box.checked) });
    const due = dueText(task.due, now);
    return el("li", {
      class: `panel-task${task.completed ? " done" : ""}${overdue ? " overdue" : ""}`,
      dataset: { taskId: task.id, completed: String(task.completed), priority: task.priority },
    },
      el("label", { class: "panel-check" }, box, el("span", { class: "panel-title" }, task.title)),
      el("p", { class: "panel-meta" },
        due ? el("span", { class: "due", title: task.due }, overdue ? `Overdue · ${due}` : due)
          : null,
        PRIORITY_WORD[task.priority]
          ? el("span", { class: `prio p-${task.priority}` }, PRIORITY_WORD[task.priority]) : null,
        (task.tags || []).map((tag) => el("span", { class: "tag" }, `#${tag}`))),
      el("button", { type: "button", class: "icon danger panel-delete",
        "aria-label": `Delete: ${task.title}`, title: "Delete",
        onclick: () => this.#delete(task) }, "✕"));
  }
}
