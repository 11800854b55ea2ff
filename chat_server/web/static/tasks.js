// The tasks panel: every task of the user in views (All: Overdue / Today / Upcoming /
// No date / Done; Today; Upcoming, the next 7 days by day; Done) with a search box. A
// checkbox, an edit or a delete shows at once and rolls back visibly if the server
// refuses; each can be undone. Long groups show GROUP_CHUNK rows at a time, and rows are
// rebuilt only when they change. It refetches when the live stream says so.

import { getJson, plainMessage, sendJson } from "./client.js";
import {
  dayAfter, dayHeading, daysFrom, dueFromInputs, groupOf, inputsFromDue, isOverdue, parseDue,
} from "./dates.js";
import { el, replaceChildren } from "./dom.js";
import { QuickAdd } from "./quickadd.js";
import { ShareDialog } from "./sharing.js";
import { editForm, reconcile, rowKey, taskRow } from "./taskrows.js";
import { RecentlyDeleted } from "./trash.js";

const GROUPS = [["overdue", "Overdue"], ["today", "Today"], ["upcoming", "Upcoming"],
  ["nodate", "No date"], ["done", "Done"]];
const VIEWS = ["all", "today", "upcoming", "done", "deleted"];
const UPCOMING_DAYS = 7;
const GROUP_CHUNK = 100;
// Past this many the panel stops reading and says so (search and the chat reach the rest).
const PANEL_MAX_TASKS = 20_000;
const TOAST_MS = 8000;
const ROLLBACK_MS = 6000;

function byDue(a, b) {
  const at = (task) => parseDue(task.due)?.at.getTime() ?? Infinity;
  return at(a) - at(b) || a.id - b.id;
}

function byCompletedDesc(a, b) {
  return (b.completed_at || "").localeCompare(a.completed_at || "") || b.id - a.id;
}

function matches(task, words) {
  if (!words.length) return true;
  const text = [task.title, task.description || "", ...(task.tags || []).map((t) => `#${t}`)]
    .join(" ").toLocaleLowerCase();
  return words.every((word) => text.includes(word));
}

export class TasksPanel {
  /**
   * @param {object} opts
   * @param {HTMLElement} opts.root  the panel, holding #task-list, #tasks-summary, #quick-add
   * @param {HTMLElement} opts.toast  where undo toasts appear
   * @param {(tasks: object[], complete: boolean, startedAt: number) => void} opts.onTasks
   *   after each load or change, with the performance.now() at which it was asked for
   * @param {(error: Error, retry?: () => void) => void} opts.onError
   * @param {() => void} opts.onOk  a request worked: clear any banner
   */
  constructor({ root, toast, onTasks, onError, onOk }) {
    this.root = root;
    this.list = root.querySelector("#task-list");
    this.summary = root.querySelector("#tasks-summary");
    this.search = root.querySelector("#task-search");
    this.toast = toast;
    this.onTasks = onTasks;
    this.onError = onError;
    this.onOk = onOk;
    this.tasks = new Map(); // id -> task
    this.complete = true;
    this.loading = false; // more tasks are on their way
    this.loadedOnce = false;
    this.lists = null; // the user's lists, with the task server's open and done counts
    this.listView = null; // the list_id a list's view shows, or null for every list
    this.listsById = new Map();
    this.me = null; // the user's id, to tell their changes from a list member's
    this.auth = null; // "local" when the server has one user (no sharing)
    this.depth = new Map(); // id -> how deep a subtask is drawn under its parent
    this.view = "all";
    this.shown = new Map(); // group key -> how many rows it shows
    this.rows = new Map(); // id -> { key, node }
    this.groupNodes = new Map(); // group key -> { node, title, ul, more }
    this.current = null; // the id of the row in the tab order
    this.editing = null; // the id of the row being edited
    this.echoes = new Map(); // "id:status" -> count of our own changes the stream will echo
    this.changedAt = new Map(); // id -> performance.now() of the last change made here
    this.undo = null; // { label, run }
    this.pending = null;
    this.again = false;
    root.querySelector("#refresh-tasks").addEventListener("click", () => this.refresh());
    this.quickAdd = new QuickAdd(root.querySelector("#quick-add"), (tasks) => this.#add(tasks));
    // Its own list in place of the tasks': restoring one brings it back here too.
    this.trash = new RecentlyDeleted({ root: root.querySelector("#deleted-view"),
      onError: (error, retry) => this.onError(error, retry), onRestored: () => this.refresh() });
    this.search.addEventListener("input", () => this.#render());
    for (const button of root.querySelectorAll("[data-view]")) {
      button.addEventListener("click", () => this.setView(button.dataset.view));
    }
    this.listPicker = el("select", { id: "list-view", class: "list-view", hidden: true,
      "aria-label": "List", onchange: () => this.setList(this.listPicker.value) });
    this.shareButton = el("button", { type: "button", class: "small", hidden: true,
      onclick: () => {
        this.sharing ??= new ShareDialog(() => this.refresh());
        this.sharing.open(this.currentList(), this.me, this.auth === "local");
      } }, "Share");
    this.renameButton = el("button", { type: "button", class: "small", hidden: true,
      onclick: () => this.#renameList() }, "Rename");
    this.deleteListButton = el("button", { type: "button", class: "small", hidden: true,
      onclick: () => this.#deleteList() }, "Delete list");
    root.querySelector(".views")?.after(this.listPicker, this.shareButton, this.renameButton,
      this.deleteListButton);
    this.list.addEventListener("keydown", (event) => this.#arrows(event));
    this.list.addEventListener("focusin", (event) => {
      const row = event.target.closest(".panel-task");
      if (row) this.#setCurrent(Number(row.dataset.taskId));
    });
    // Groups and "overdue" move with the clock, not only with changes.
    setInterval(() => this.#render(), 60_000);
  }

  /** Reload the tasks; calls made while one runs share one more load after it. */
  refresh() {
    this.trash.heard();
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

  /** The live stream says a task changed: refetch, unless it is our own change's echo. */
  heard(event) {
    this.trash.heard(); // our own changes too: a delete here is one more task in the trash
    const key = `${event.task_id}:${event.status}`;
    const count = this.echoes.get(key);
    if (count) {
      if (count === 1) this.echoes.delete(key);
      else this.echoes.set(key, count - 1);
      return;
    }
    this.refresh();
  }

  async #load() {
    this.list.setAttribute("aria-busy", "true");
    const startedAt = performance.now();
    try {
      // The lists' counts are the task server's own: every task is counted at once, while
      // the tasks themselves arrive a thousand at a time.
      const lists = getJson("/api/lists").catch(() => null);
      const me = this.me ? null : getJson("/api/me").catch(() => null);
      const loaded = new Map();
      let cursor = null;
      do {
        const query = cursor === null ? "" : `?cursor=${encodeURIComponent(cursor)}`;
        const page = await getJson(`/api/tasks${query}`);
        for (const task of page.tasks) loaded.set(task.id, task);
        cursor = page.next_cursor;
        if (cursor !== null && loaded.size >= PANEL_MAX_TASKS) break;
        // The first load shows what it has at once; a reload swaps in when it has it all.
        if (cursor !== null && !this.loadedOnce) {
          this.loading = true;
          this.lists ??= (await lists)?.lists || null;
          this.#take(loaded, startedAt);
        }
      } while (cursor !== null);
      this.loading = false;
      this.lists = (await lists)?.lists || this.lists;
      this.listsById = new Map((this.lists || []).map((l) => [l.list_id, l]));
      const who = await me;
      if (who) [this.me, this.auth] = [who.user_id, who.auth];
      this.#fillListPicker();
      this.complete = cursor === null;
      this.loadedOnce = true;
      this.#take(loaded, startedAt);
      this.onOk();
      this.#told(startedAt);
    } catch (error) {
      this.loading = false;
      this.summary.textContent = "Could not load your tasks.";
      this.onError(error, () => this.refresh());
    } finally {
      this.list.removeAttribute("aria-busy");
    }
  }

  /** Show `loaded`, keeping what changed here since the load began (it is newer). */
  #take(loaded, startedAt) {
    const tasks = new Map(loaded);
    for (const [id, at] of this.changedAt) {
      if (at < startedAt) this.changedAt.delete(id);
      else if (this.tasks.has(id)) tasks.set(id, this.tasks.get(id));
      else tasks.delete(id);
    }
    this.tasks = tasks;
    this.#render();
  }

  #told(startedAt) {
    this.onTasks([...this.tasks.values()], this.complete, startedAt);
  }

  setView(view) {
    if (!VIEWS.includes(view)) return;
    this.view = view;
    for (const button of this.root.querySelectorAll("[data-view]")) {
      button.setAttribute("aria-pressed", String(button.dataset.view === view));
    }
    // "Recently deleted" shows the task server's trash instead of the tasks.
    const deleted = view === "deleted";
    this.list.hidden = this.summary.hidden = deleted;
    if (deleted) this.trash.show();
    else this.trash.hide();
    this.shown.clear();
    this.#render();
  }

  /** Show one list's tasks (its list_id), or every list's (""). */
  setList(listId) {
    this.listForm?.remove();
    this.listForm = null;
    this.listView = listId ? Number(listId) : null;
    this.listPicker.value = listId ? String(listId) : "";
    this.#showShareButton();
    this.shown.clear();
    this.#render();
  }

  /** The list picker's options: shown once the user has more than one list. */
  #fillListPicker() {
    const lists = this.lists || [];
    const chosen = this.listPicker.value;
    replaceChildren(this.listPicker, el("option", { value: "" }, "All lists"),
      lists.map((list) => el("option", { value: list.list_id },
        list.owner && list.role !== "owner" ? `${list.name} (shared by ${list.owner})`
          : list.name)));
    this.listPicker.value = lists.some((l) => String(l.list_id) === chosen) ? chosen : "";
    this.listPicker.hidden = lists.length < 2;
    if (!this.listPicker.value) this.listView = null;
    this.#showShareButton();
  }

  /** "Share" on a list's own view ("Members" on a list shared with the user). */
  #showShareButton() {
    const list = this.currentList();
    this.shareButton.hidden = !list;
    this.shareButton.textContent = list?.role && list.role !== "owner" ? "Members" : "Share";
    this.shareButton.setAttribute("aria-label", list ? `${this.shareButton.textContent}: ${
      list.name}` : "Share");
    // Only the owner renames or deletes a list, and the Inbox stays.
    const own = Boolean(list && !list.inbox && (!list.role || list.role === "owner"));
    this.renameButton.hidden = this.deleteListButton.hidden = !own;
    if (own) {
      this.renameButton.setAttribute("aria-label", `Rename list: ${list.name}`);
      this.deleteListButton.setAttribute("aria-label", `Delete list: ${list.name}`);
    }
  }

  /** Rename the list on view; its tasks stay in it. */
  #renameList() {
    const list = this.currentList();
    const name = el("input", { type: "text", value: list.name, required: true, maxlength: 100,
      "aria-label": "New list name", dir: "auto" });
    this.#listForm(`Rename list “${list.name}”`, [name], "Rename", async () => {
      const wanted = name.value.trim();
      if (!wanted || wanted === list.name) return;
      await sendJson(`/api/lists/${list.list_id}`, { new_name: wanted }, "PATCH");
    });
  }

  /**
   * Delete the list on view; its tasks, if it has any, move to the Inbox unless the user
   * ticks "Delete its tasks too".
   */
  #deleteList() {
    const list = this.currentList();
    const count = (list.open || 0) + (list.done || 0);
    const inbox = (this.lists || []).find((l) => l.inbox)?.name || "Inbox";
    const question = count ? `Delete the list “${list.name}”? Its ${count} task${
      count === 1 ? "" : "s"} move to ${inbox}.` : `Delete the list “${list.name}”?`;
    const drop = el("input", { type: "checkbox" });
    const fields = [el("span", {}, question),
      count ? el("label", {}, drop, " Delete its tasks too") : null];
    this.#listForm(`Delete list “${list.name}”`, fields, "Delete", async () => {
      const where = drop.checked ? { delete_tasks: true } : { move_tasks_to: inbox };
      await sendJson(`/api/lists/${list.list_id}`, count ? where : {}, "DELETE");
      this.setList("");
    });
  }

  /** A small form beside the list's buttons: `fields`, then `submit` and Cancel. */
  #listForm(label, fields, submit, act) {
    this.listForm?.remove();
    const close = () => {
      form.remove();
      this.listForm = null;
      this.listPicker.focus();
    };
    const form = el("form", { class: "list-form", "aria-label": label,
      onsubmit: async (event) => {
        event.preventDefault();
        close();
        try {
          await act();
        } catch (error) {
          this.onError(error);
        }
        await this.refresh();
      } },
    ...fields,
    el("button", { type: "submit", class: "small primary" }, submit),
    el("button", { type: "button", class: "small", onclick: close }, "Cancel"));
    this.deleteListButton.after(form);
    this.listForm = form;
    form.querySelector("input, button")?.focus();
  }

  /** The list the panel shows, if one: quick add puts new tasks in it. */
  currentList() {
    return (this.lists || []).find((list) => list.list_id === this.listView) || null;
  }

  focusSearch() {
    this.search.focus();
    this.search.select();
  }

  focusQuickAdd() {
    this.quickAdd.focus();
  }

  // --- changes -------------------------------------------------------------------------

  #expectEcho(id, status) {
    const key = `${id}:${status}`;
    this.echoes.set(key, (this.echoes.get(key) || 0) + 1);
  }

  /** Apply a server's TaskChange to the local copy. */
  #apply(change) {
    this.changedAt.set(change.task_id, performance.now());
    if (change.status === "deleted") this.tasks.delete(change.task_id);
    else this.tasks.set(change.task.id, change.task);
    if (change.next_task) {
      this.tasks.set(change.next_task.id, change.next_task);
      this.#expectEcho(change.next_task.id, "created");
    }
  }

  /**
   * Show `optimistic` at once, then send `request`; on success apply its answer, else put
   * `before` back, mark the row and say why once. Resolves to the TaskChange or null.
   */
  async #change({ id, before, optimistic, request, status, focusAfter }) {
    const startedAt = performance.now();
    if (id !== null) this.changedAt.set(id, startedAt);
    if (optimistic) {
      if (optimistic === "deleted") this.tasks.delete(id);
      else this.tasks.set(id, { ...optimistic, pending: true });
      this.#render(focusAfter);
    }
    if (status) this.#expectEcho(id, status);
    try {
      const change = await request();
      this.#apply(change);
      this.#render();
      this.onOk();
      this.#told(startedAt);
      return change;
    } catch (error) {
      if (status) this.echoes.delete(`${id}:${status}`);
      const hadFocus = this.root.contains(document.activeElement);
      if (before) this.tasks.set(id, before);
      this.#render();
      if (before && error?.status !== 401) {
        // Said once, on the row it concerns, in plain words.
        this.#flash(id, plainMessage(error));
        if (hadFocus) this.#focusRow(id);
      } else {
        this.onError(error);
      }
      return null;
    }
  }

  #flash(id, message) {
    const node = this.rows.get(id)?.node;
    if (!node) return;
    node.querySelector(".row-error")?.remove();
    const said = el("p", { class: "row-error", role: "alert" }, `Not saved: ${message}`);
    node.classList.add("rolled-back");
    node.append(said);
    clearTimeout(node.rollbackTimer);
    node.rollbackTimer = setTimeout(() => {
      node.classList.remove("rolled-back");
      said.remove();
    }, ROLLBACK_MS);
  }

  async toggle(task, completed) {
    const before = this.tasks.get(task.id) || task;
    const change = await this.#change({
      id: task.id, before, status: completed ? "completed" : "reopened",
      optimistic: { ...before, completed, completed_at: completed ? new Date().toISOString() : null },
      request: () => sendJson(`/api/tasks/${task.id}/complete`, { completed }),
      focusAfter: this.#neighbour(task.id),
    });
    if (change) {
      this.#offerUndo(completed ? `Completed “${task.title}”` : `Reopened “${task.title}”`,
        () => this.#undoToggle(task.id, !completed));
    }
    return change;
  }

  async #undoToggle(id, completed) {
    const task = this.tasks.get(id);
    if (!task) return;
    await this.#change({ id, before: task, status: completed ? "completed" : "reopened",
      optimistic: { ...task, completed }, focusAfter: id,
      request: () => sendJson(`/api/tasks/${id}/complete`, { completed }) });
    this.#focusRow(id);
  }

  async remove(task) {
    const before = this.tasks.get(task.id) || task;
    const change = await this.#change({ id: task.id, before, status: "deleted",
      optimistic: "deleted", focusAfter: this.#neighbour(task.id),
      request: () => sendJson(`/api/tasks/${task.id}`, {}, "DELETE") });
    if (!change) return null;
    const subtasks = this.#descendants(task.id);
    for (const sub of subtasks) this.tasks.delete(sub.id); // deleted along with it
    if (subtasks.length) this.#render();
    this.#offerUndo(`Deleted “${task.title}”`, async () => {
      // The same task comes back (its id, notes, subtasks and history), so cards and
      // links that name it still mean it.
      const restored = await this.#change({ id: task.id, status: "created",
        request: () => sendJson(`/api/tasks/${task.id}/restore`, {}) });
      if (!restored) return;
      // Its subtasks came back with it: read them rather than guess.
      if (subtasks.length) this.refresh();
      this.#focusRow(task.id);
    });
    return change;
  }

  /** The subtasks of `id`, theirs, and so on. */
  #descendants(id) {
    const found = [];
    const parents = new Set([id]);
    for (let grew = true; grew;) {
      grew = false;
      for (const task of this.tasks.values()) {
        if (parents.has(task.parent_id) && !parents.has(task.id)) {
          parents.add(task.id);
          found.push(task);
          grew = true;
        }
      }
    }
    return found;
  }

  async #add(tasks) {
    const inList = this.currentList();
    for (const reading of tasks) {
      // A list shared with the user is named by its id (names are only one's own).
      const list = inList?.role && inList.role !== "owner" ? inList.list_id : inList?.name;
      const fields = inList && !reading.list && !reading.parent_id
        ? { ...reading, list } : reading;
      try {
        const change = await sendJson("/api/tasks", fields);
        this.#expectEcho(change.task_id, "created");
        this.#apply(change);
        this.#render();
        this.onOk();
        this.#told(performance.now());
      } catch (error) {
        if (error?.status === 400 || error?.status === 422) return plainMessage(error);
        this.onError(error);
        return plainMessage(error);
      }
    }
    return null;
  }

  edit(task) {
    const row = this.rows.get(task.id)?.node;
    if (!row) return;
    this.editing = task.id;
    const close = (focusId) => {
      this.editing = null;
      this.rows.delete(task.id);
      this.#render();
      this.#focusRow(focusId, "edit");
    };
    const { form, focus } = editForm(this.tasks.get(task.id) || task, {
      cancel: () => close(task.id),
      save: async (changes) => {
        if (!Object.keys(changes).length) {
          close(task.id);
          return null;
        }
        try {
          const change = await sendJson(`/api/tasks/${task.id}`, changes, "PATCH");
          this.#expectEcho(task.id, "updated");
          this.#apply(change);
          this.onOk();
          this.#told(performance.now());
          close(task.id);
          // Its subtasks moved with it, and the list may be new: read both again.
          if (changes.list) this.refresh();
          return null;
        } catch (error) {
          if (error?.status !== 400 && error?.status !== 422) this.onError(error);
          return plainMessage(error);
        }
      },
    }, this.lists || []);
    replaceChildren(row, form);
    row.classList.add("editing");
    focus();
  }

  /** Days from today a group's tasks are due in: null for "No date", undefined if none. */
  #dayOf(key) {
    if (key === "today") return 0;
    if (key === "upcoming") return 1;
    if (key === "nodate") return null;
    const day = /^day(\d+)$/.exec(key);
    return day ? Number(day[1]) : undefined;
  }

  /** Move a task to a group dropped on: its day (keeping its time of day), or no date. */
  async reschedule(task, key) {
    const days = this.#dayOf(key);
    if (days === undefined || task.completed) return null;
    const before = this.tasks.get(task.id) || task;
    let due = "";
    if (days !== null) {
      const day = dayAfter(new Date(), days);
      const pad = (n) => String(n).padStart(2, "0");
      const date = `${day.getFullYear()}-${pad(day.getMonth() + 1)}-${pad(day.getDate())}`;
      due = dueFromInputs(date, inputsFromDue(before.due).time);
    }
    if ((before.due || "") === due) return null;
    const change = await this.#change({ id: task.id, before, status: "updated",
      optimistic: { ...before, due: due || null },
      request: () => sendJson(`/api/tasks/${task.id}`, { due }, "PATCH") });
    if (change) {
      this.#offerUndo(`Moved “${task.title}”`, () => this.#change({ id: task.id,
        before: this.tasks.get(task.id), status: "updated", optimistic: before,
        request: () => sendJson(`/api/tasks/${task.id}`, { due: before.due || "" }, "PATCH") }));
    }
    return change;
  }

  // --- undo ------------------------------------------------------------------------------

  #offerUndo(text, run) {
    this.undo = { text, run };
    clearTimeout(this.toastTimer);
    const hide = () => replaceChildren(this.toast);
    replaceChildren(this.toast, el("div", { class: "toast" },
      el("span", { dir: "auto" }, text),
      el("button", { type: "button", class: "small", title: "Undo (u)",
        onclick: () => this.undoLast() }, "Undo")));
    this.toastTimer = setTimeout(hide, TOAST_MS);
  }

  /** Undo the last change made here (the toast's button, `u`, Ctrl+Z). */
  undoLast() {
    const undo = this.undo;
    if (!undo) return false;
    this.undo = null;
    clearTimeout(this.toastTimer);
    replaceChildren(this.toast);
    undo.run();
    return true;
  }

  // --- keyboard ------------------------------------------------------------------------

  /** The task the keyboard acts on: the focused row's (never one the user is not on). */
  currentTask() {
    const row = document.activeElement?.closest?.(".panel-task");
    return row && this.list.contains(row) ? this.tasks.get(Number(row.dataset.taskId)) : null;
  }

  /** Move to the next (1) or previous (-1) row shown. */
  step(delta) {
    const rows = [...this.list.querySelectorAll(".panel-task")];
    if (!rows.length) return;
    const at = rows.findIndex((row) => Number(row.dataset.taskId) === this.current);
    const next = rows[Math.max(0, Math.min(rows.length - 1, at < 0 ? 0 : at + delta))];
    this.#focusRow(Number(next.dataset.taskId));
  }

  #arrows(event) {
    if (event.target.closest(".panel-edit-form")) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      this.step(event.key === "ArrowDown" ? 1 : -1);
    }
  }

  #setCurrent(id) {
    if (this.current === id) return;
    const old = this.rows.get(this.current)?.node;
    this.current = id;
    for (const control of old?.querySelectorAll("[data-control]") || []) control.tabIndex = -1;
    for (const control of this.rows.get(id)?.node.querySelectorAll("[data-control]") || []) {
      control.tabIndex = 0;
    }
  }

  #focusRow(id, control = "check") {
    const node = this.rows.get(id)?.node;
    if (!node || !node.isConnected) return;
    this.#setCurrent(id);
    (node.querySelector(`[data-control=${control}]`) || node.querySelector("[data-control]"))
      ?.focus();
  }

  /** The row that takes `id`'s place when it leaves its group: the next, else the previous. */
  #neighbour(id) {
    const node = this.rows.get(id)?.node;
    if (!node) return null;
    const other = node.nextElementSibling || node.previousElementSibling;
    return other ? Number(other.dataset.taskId) : null;
  }

  // --- rendering -----------------------------------------------------------------------

  #groups(now, tasks) {
    const groups = [];
    const byId = new Map(tasks.map((t) => [t.id, t]));
    const children = new Map(); // parent id -> its subtasks drawn under it
    const key = (t) => (this.view === "done" ? "done" : groupOf(t, now));
    for (const task of tasks) {
      const parent = byId.get(task.parent_id);
      if (parent && key(parent) === key(task)) {
        if (!children.has(parent.id)) children.set(parent.id, []);
        children.get(parent.id).push(task);
      }
    }
    this.depth.clear();
    // A group's items: its top tasks, each followed by its subtasks (sorted the same way).
    const nest = (items, sort, depth = 0) => items.sort(sort).flatMap((task) => {
      if (depth) this.depth.set(task.id, depth);
      return [task, ...nest(children.get(task.id) || [], sort, depth + 1)];
    });
    const nested = (t) => children.get(t.parent_id)?.includes(t);
    const add = (key, label, items, empty, sort = byDue) => groups.push({ key, label,
      items: nest(items.filter((t) => !nested(t)), sort), empty });
    const pick = (key) => tasks.filter((t) => groupOf(t, now) === key);
    switch (this.view) {
      case "today":
        add("overdue", "Overdue", pick("overdue"));
        add("today", "Today", pick("today"), "Nothing else due today.");
        break;
      case "upcoming":
        for (let day = 1; day <= UPCOMING_DAYS; day += 1) {
          const date = dayAfter(now, day);
          const items = tasks.filter((t) => !t.completed && t.due
            && daysFrom(parseDue(t.due).at, now) === day);
          add(`day${day}`, dayHeading(date, now), items, "Nothing planned.");
        }
        break;
      case "done":
        add("done", "Done", tasks.filter((t) => t.completed), "Nothing done yet.",
          byCompletedDesc);
        break;
      default:
        for (const [key, label] of GROUPS) {
          const items = pick(key);
          if (items.length) add(key, label, items, undefined, key === "done" ? byCompletedDesc : byDue);
        }
    }
    return groups;
  }

  #summarise(now, shownCount, words) {
    const all = [...this.tasks.values()];
    let open = all.filter((t) => !t.completed).length;
    let done = all.length - open;
    const overdue = all.filter((t) => isOverdue(t, now)).length;
    if (this.loading && this.lists) {
      // Still reading: the task server's counts of every task, not of those read so far.
      open = this.lists.reduce((sum, list) => sum + list.open, 0);
      done = this.lists.reduce((sum, list) => sum + list.done, 0);
    }
    const number = (n) => n.toLocaleString();
    // No template inside a template: the page's minifier (rjsmin) reads those wrongly.
    const parts = [`${number(open)} open`];
    if (overdue && !this.loading) parts.push(`${number(overdue)} overdue`);
    parts.push(`${number(done)} done`);
    let text = open + done ? parts.join(", ") : "No tasks yet. Add one here or ask the chat.";
    if (this.loading) text += ` · loading (${number(all.length)} so far)…`;
    if (words.length) text += ` · ${shownCount} match “${this.search.value.trim()}”`;
    if (!this.complete && !this.loading) {
      text += " · more tasks than the panel can hold: search to find them";
    }
    this.summary.textContent = text;
  }

  #render(focusAfter) {
    const now = new Date();
    const focused = document.activeElement;
    const hadFocus = this.list.contains(focused);
    const focusedRow = hadFocus && focused.closest(".panel-task")
      ? Number(focused.closest(".panel-task").dataset.taskId) : null;
    const words = this.search.value.trim().toLocaleLowerCase().split(/\s+/).filter(Boolean);
    const tasks = [...this.tasks.values()].filter((t) => matches(t, words)
      && (this.listView === null || t.list_id === this.listView));
    const groups = this.#groups(now, tasks);
    this.#summarise(now, tasks.length, words);
    const visible = groups.map((group) =>
      group.items.slice(0, this.shown.get(group.key) || GROUP_CHUNK));
    const live = new Set(visible.flat().map((task) => task.id));
    // One row is always in the tab order, and it is one the user can see.
    if (!live.has(this.current)) this.current = visible.flat()[0]?.id ?? null;
    const groupNodes = groups.map((group, i) => this.#groupNode(group,
      visible[i].map((task) => this.#rowNode(task, now)),
      this.shown.get(group.key) || GROUP_CHUNK));
    for (const id of this.rows.keys()) if (!live.has(id)) this.rows.delete(id);
    if (!groupNodes.length) {
      groupNodes.push(el("li", { class: "muted empty" }, words.length ? "No task matches."
        : this.tasks.size ? "Nothing here." : ""));
    }
    reconcile(this.list, groupNodes);
    if (!hadFocus) return;
    if (focusAfter !== undefined) {
      // The row the user acted on left its place: the one now there takes the focus.
      if (focusAfter !== null && this.rows.has(focusAfter)) this.#focusRow(focusAfter);
      else if (!this.list.contains(document.activeElement)) this.search.focus();
    } else if (!this.list.contains(document.activeElement) && focusedRow !== null) {
      // A node that only moved (a row being edited, say) lost its focus: give it back;
      // a row drawn anew takes it on the same control.
      if (this.list.contains(focused)) focused.focus();
      else this.#focusRow(focusedRow, focused.dataset?.control);
    }
  }

  #rowNode(task, now) {
    const current = task.id === this.current;
    const cached = this.rows.get(task.id);
    if (this.editing === task.id && cached) return cached.node;
    // The list is said where more than one is shown; a subtask is drawn under its parent.
    const list = this.listsById.get(task.list_id);
    const shown = { depth: this.depth.get(task.id) || 0,
      list: this.listView === null && (this.lists?.length || 0) > 1 ? task.list : null,
      shared: list && (list.shared || (list.role && list.role !== "owner"))
        ? { owner: list.owner, me: this.me } : null };
    const key = rowKey(task, now, current, shown);
    if (cached && cached.key === key) return cached.node;
    const act = { toggle: (t, done) => this.toggle(t, done), edit: (t) => this.edit(t),
      remove: (t) => this.remove(t) };
    const node = taskRow(task, now, current, act, shown);
    if (cached?.node.contains(document.activeElement)) {
      const control = document.activeElement.dataset.control;
      cached.node.replaceWith(node);
      node.querySelector(`[data-control=${control}]`)?.focus();
    }
    this.rows.set(task.id, { key, node });
    return node;
  }

  #groupNode(group, rows, limit) {
    let parts = this.groupNodes.get(group.key);
    if (!parts) {
      const title = el("h3", { class: "group-title", id: `group-${group.key}` });
      const ul = el("ul", { "aria-labelledby": `group-${group.key}` });
      const more = el("button", { type: "button", class: "small show-more", onclick: () => {
        this.shown.set(group.key, (this.shown.get(group.key) || GROUP_CHUNK) + GROUP_CHUNK);
        this.#render();
      } });
      const empty = el("p", { class: "muted empty" });
      const node = el("li", { class: `task-group g-${group.key}`, dataset: { group: group.key },
        ondragover: (event) => {
          if (this.#dayOf(group.key) === undefined) return;
          event.preventDefault();
          event.dataTransfer.dropEffect = "move";
        },
        ondrop: (event) => {
          event.preventDefault();
          const id = Number(event.dataTransfer.getData("application/x-task-id"));
          if (this.tasks.has(id)) this.reschedule(this.tasks.get(id), group.key);
        } },
      title, ul, empty, more);
      parts = { node, title, ul, more, empty };
      this.groupNodes.set(group.key, parts);
    }
    replaceChildren(parts.title, group.label, el("span", { class: "count" }, ` ${group.items.length}`));
    reconcile(parts.ul, rows);
    const left = group.items.length - Math.min(limit, group.items.length);
    parts.more.hidden = left === 0;
    parts.more.textContent = `Show ${Math.min(left, GROUP_CHUNK)} more (${left} not shown)`;
    parts.empty.hidden = group.items.length > 0 || !group.empty;
    parts.empty.textContent = group.empty || "";
    return parts.node;
  }
}
