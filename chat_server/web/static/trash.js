// "Recently deleted": the tasks the user deleted that the task server still keeps (for 10
// minutes), each with the subtasks deleted with it and a Restore button that brings back
// the same task (its id, notes, subtasks and history). Read again whenever the live stream
// says a task changed while it is shown; a task whose time ran out leaves on its own.

import { getJson, plainMessage, sendJson } from "./client.js";
import { el, replaceChildren } from "./dom.js";

const TICK_MS = 15_000;
const AGO = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

function ago(moment, now) {
  const minutes = Math.round((moment.getTime() - now.getTime()) / 60_000);
  return minutes === 0 ? AGO.format(0, "second") : AGO.format(minutes, "minute");
}

export class RecentlyDeleted {
  /**
   * @param {object} opts
   * @param {HTMLElement} opts.root  the view, holding a summary (.deleted-summary) and a list
   * @param {(change: object) => void} opts.onRestored  a task came back
   * @param {(error: Error, retry?: () => void) => void} opts.onError
   */
  constructor({ root, onRestored, onError }) {
    this.root = root;
    this.summary = root.querySelector(".deleted-summary");
    this.list = root.querySelector("ul");
    this.onRestored = onRestored;
    this.onError = onError;
    this.items = [];
    this.shown = false;
    this.pending = null;
    this.again = false;
    this.timer = null;
    this.said = ""; // what the last restore did, said until the view is left
  }

  show() {
    this.shown = true;
    this.said = "";
    this.root.hidden = false;
    this.timer ??= setInterval(() => this.#render(), TICK_MS);
    return this.refresh();
  }

  hide() {
    this.shown = false;
    this.root.hidden = true;
    clearInterval(this.timer);
    this.timer = null;
  }

  /** A task changed somewhere: read the list again if it is on screen. */
  heard() {
    if (this.shown) this.refresh();
  }

  /** Read the list; calls made while one runs share one more read after it. */
  refresh() {
    if (this.pending) {
      this.again = true;
      return this.pending;
    }
    this.pending = this.#load().finally(() => {
      this.pending = null;
      if (this.again && this.shown) {
        this.again = false;
        this.refresh();
      }
    });
    return this.pending;
  }

  async #load() {
    this.list.setAttribute("aria-busy", "true");
    try {
      this.items = (await getJson("/api/tasks/deleted")).deleted;
      this.#render();
    } catch (error) {
      this.summary.textContent = "Could not load your recently deleted tasks.";
      this.onError(error, () => this.refresh());
    } finally {
      this.list.removeAttribute("aria-busy");
    }
  }

  #render() {
    const now = new Date();
    this.items = this.items.filter((item) => new Date(item.restorable_until) > now);
    // The focus stays on its row's button, or, that row gone, on the one now in its place.
    const at = [...this.list.children].findIndex((li) => li.contains(document.activeElement));
    const focused = at < 0 ? null : Number(this.list.children[at].dataset.taskId);
    const count = this.items.length;
    const kept = "kept for 10 minutes";
    const summary = count ? `${count} recently deleted task${count === 1 ? "" : "s"}, ${kept}.`
      : `Nothing deleted in the last 10 minutes (deleted tasks are ${kept}).`;
    this.summary.textContent = this.said ? `${this.said} ${summary}` : summary;
    replaceChildren(this.list, this.items.map((item) => this.#row(item, now)));
    if (at >= 0) this.#focus(focused, at);
  }

  #row(item, now) {
    const deletedAt = new Date(item.deleted_at);
    const error = el("p", { class: "row-error", role: "alert", hidden: true });
    const restore = el("button", { type: "button", class: "small",
      "aria-label": `Restore “${item.title}”`,
      onclick: () => this.restore(item, restore, error) }, "Restore");
    const subtasks = item.subtasks.length ? el("span", { dir: "auto" },
      `with ${item.subtasks.length === 1 ? "1 subtask" : `${item.subtasks.length} subtasks`}: `,
      item.subtasks.map((sub) => sub.title).join(", ")) : null;
    return el("li", { class: "panel-task deleted-task", dataset: { taskId: item.id } },
      el("span", { class: "panel-title", dir: "auto" }, item.title),
      el("span", { class: "row-actions" }, restore),
      el("span", { class: "panel-meta" },
        el("time", { datetime: item.deleted_at, title: deletedAt.toLocaleString() },
          `Deleted ${ago(deletedAt, now)}`),
        item.list ? el("span", { dir: "auto" }, item.list) : null,
        subtasks),
      error);
  }

  /** Restore `item`: the same task comes back; the focus moves to the next one's button. */
  async restore(item, button, error) {
    // Not `disabled`: a disabled button drops the keyboard focus to the page's body.
    if (item.restoring) return;
    item.restoring = true;
    button.setAttribute("aria-disabled", "true");
    try {
      const change = await sendJson(`/api/tasks/${item.id}/restore`, {});
      this.items = this.items.filter((other) => other !== item);
      this.said = `Restored “${item.title}”.`;
      this.#render();
      this.onRestored(change);
    } catch (failure) {
      if (failure?.status === 404) {
        // Its time ran out (or another tab restored it): it leaves the list, said why.
        this.items = this.items.filter((other) => other !== item);
        this.said = `“${item.title}” was not restored: ${plainMessage(failure)}`;
        this.#render();
        return;
      }
      item.restoring = false;
      button.removeAttribute("aria-disabled");
      error.textContent = `Not restored: ${plainMessage(failure)}`;
      error.hidden = false;
      button.focus();
    }
  }

  /** Focus task `id`'s Restore button, else the one at row `at` or above, else the view. */
  #focus(id, at) {
    const rows = [...this.list.children];
    const row = rows.find((li) => Number(li.dataset.taskId) === id)
      || rows[Math.min(at, rows.length - 1)];
    if (row) row.querySelector("button").focus();
    else this.summary.focus();
  }
}
