// The tasks panel beside the chat: the user's current tasks from /api/tasks, open ones first.

import { getJson } from "./client.js";
import { el, replaceChildren } from "./dom.js";

function dueLabel(due) {
  if (!due) return "No due date";
  if (!due.includes("T")) return `Due ${due}`;
  const [day, time] = due.split("T");
  return `Due ${day} ${time.slice(0, 5)} UTC`;
}

function order(a, b) {
  if (a.completed !== b.completed) return a.completed ? 1 : -1;
  if ((a.due || "") !== (b.due || "")) {
    if (!a.due) return 1;
    if (!b.due) return -1;
    return a.due < b.due ? -1 : 1;
  }
  return a.id - b.id;
}

export class TasksPanel {
  constructor({ list, summary, refreshButton, onError }) {
    this.list = list;
    this.summary = summary;
    this.onError = onError;
    this.pending = null;
    refreshButton.addEventListener("click", () => this.refresh());
  }

  /** Reload the tasks; overlapping calls share one request. */
  refresh() {
    this.pending ??= this.#load().finally(() => { this.pending = null; });
    return this.pending;
  }

  async #load() {
    this.list.setAttribute("aria-busy", "true");
    try {
      const { tasks } = await getJson("/api/tasks");
      this.#render([...tasks].sort(order));
    } catch (error) {
      this.summary.textContent = "Could not load your tasks.";
      this.onError(error);
    } finally {
      this.list.removeAttribute("aria-busy");
    }
  }

  #render(tasks) {
    const open = tasks.filter((t) => !t.completed).length;
    this.summary.textContent = tasks.length
      ? `${open} open, ${tasks.length - open} done`
      : "No tasks yet. Ask the chat to add one.";
    replaceChildren(this.list, tasks.map((task) => el("li", {
      class: `panel-task${task.completed ? " done" : ""}`,
      dataset: { taskId: task.id, completed: task.completed ? "true" : "false" },
    },
      el("span", { class: "panel-mark", "aria-hidden": "true" }, task.completed ? "✓" : "○"),
      el("div", { class: "panel-body" },
        el("p", { class: "panel-title" },
          el("span", { class: "visually-hidden" }, task.completed ? "Done: " : "Open: "),
          task.completed ? el("s", {}, task.title) : task.title),
        el("p", { class: "panel-meta" },
          el("span", {}, dueLabel(task.due)),
          el("span", { class: `pill prio p-${task.priority}` }, task.priority),
          (task.tags || []).map((tag) => el("span", { class: "pill tag" }, `#${tag}`)))))));
  }
}
