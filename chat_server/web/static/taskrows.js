// One task's row in the panel, its edit-in-place form, and a reconcile step that moves
// existing nodes instead of rebuilding the list: a refresh with 1,000 tasks touches only
// the rows that changed, and the row the user is on keeps its focus.

import { dueFromInputs, dueText, inputsFromDue, isOverdue } from "./dates.js";
import { el } from "./dom.js";
import { readReminders, remindersText } from "./reminders.js";

const PRIORITY_WORD = { high: "High priority", low: "Low priority" };
const REPEAT_WORD = { daily: "Daily", weekly: "Weekly", monthly: "Monthly", yearly: "Yearly" };

/** The task's repeat rule in words ("every 2 weeks on Tue and Thu"), or null. */
export function repeatText(task) {
  const words = task.repeat_text;
  if (words) return words.charAt(0).toLocaleUpperCase() + words.slice(1);
  if (!task.recurrence || task.recurrence === "none") return null;
  return REPEAT_WORD[task.recurrence] || "Repeats";
}

/** What a row shows, as one string: the row is rebuilt only when this changes. */
export function rowKey(task, now, current) {
  return JSON.stringify([task.title, task.completed, task.due, task.priority, task.tags,
    task.recurrence, task.repeat_text, dueText(task.due, now), isOverdue(task, now), current,
    task.pending === true]);
}

/**
 * A task's row. Only the current row's controls are in the tab order (a roving tabindex):
 * Tab crosses the list in one step, and arrows or j/k move between rows.
 * @param {object} task
 * @param {Date} now
 * @param {boolean} current
 * @param {{toggle: Function, edit: Function, remove: Function}} act
 */
export function taskRow(task, now, current, act) {
  const overdue = isOverdue(task, now);
  const tab = current ? 0 : -1;
  // The title is the checkbox's name but not its label: a double-click on it edits
  // the task rather than ticking it twice.
  const box = el("input", { type: "checkbox", checked: task.completed, tabindex: tab,
    "aria-labelledby": `task-title-${task.id}`, dataset: { control: "check" },
    onchange: () => act.toggle(task, box.checked) });
  const due = dueText(task.due, now);
  const repeat = repeatText(task);
  return el("li", {
    class: `panel-task${task.completed ? " done" : ""}${overdue ? " overdue" : ""}${
      task.pending ? " pending" : ""}`,
    dataset: { taskId: task.id, completed: String(task.completed), priority: task.priority },
  },
    el("div", { class: "panel-check" }, box,
      el("span", { class: "panel-title", id: `task-title-${task.id}`, dir: "auto",
        title: "Double-click to edit", ondblclick: () => act.edit(task) }, task.title)),
    el("p", { class: "panel-meta" },
      due ? el("span", { class: "due", title: task.due }, overdue ? `Overdue · ${due}` : due)
        : null,
      PRIORITY_WORD[task.priority]
        ? el("span", { class: `prio p-${task.priority}` }, PRIORITY_WORD[task.priority]) : null,
      repeat ? el("span", { class: "repeat" }, `↻ ${repeat}`) : null,
      (task.tags || []).map((tag) => el("span", { class: "tag", dir: "auto" }, `#${tag}`))),
    el("div", { class: "row-actions" },
      el("button", { type: "button", class: "icon panel-edit", tabindex: tab,
        "aria-label": `Edit: ${task.title}`, title: "Edit (e)", dataset: { control: "edit" },
        onclick: () => act.edit(task) }, "✎"),
      el("button", { type: "button", class: "icon danger panel-delete", tabindex: tab,
        "aria-label": `Delete: ${task.title}`, title: "Delete (#)", dataset: { control: "delete" },
        onclick: () => act.remove(task) }, "✕")));
}

/**
 * The edit-in-place form for `task`: title, notes, date and time, priority, tags.
 * `save(changes)` gets only what changed; `cancel()` on Cancel or Escape.
 */
export function editForm(task, { save, cancel }) {
  const { date, time } = inputsFromDue(task.due);
  const id = `edit-${task.id}`;
  const field = (label, input) => el("label", { class: "edit-field" },
    el("span", {}, label), input);
  const title = el("input", { type: "text", id: `${id}-title`, value: task.title, required: true,
    dir: "auto" });
  const notes = el("textarea", { rows: 2, dir: "auto" });
  notes.value = task.description || "";
  const day = el("input", { type: "date", value: date });
  const hour = el("input", { type: "time", value: time });
  const priority = el("select", {},
    ["low", "medium", "high"].map((p) => el("option", { value: p, selected: p === task.priority },
      p[0].toUpperCase() + p.slice(1))));
  const tags = el("input", { type: "text", value: (task.tags || []).join(", "),
    placeholder: "home, errands" });
  const remind = el("input", { type: "text", value: remindersText(task.reminders),
    placeholder: "due, 30m, 1d" });
  const error = el("p", { class: "field-error", role: "alert", hidden: true });
  const form = el("form", { class: "panel-edit-form", "aria-label": `Edit “${task.title}”`,
    onsubmit: async (event) => {
      event.preventDefault();
      const changes = {};
      if (title.value.trim() !== task.title) changes.title = title.value.trim();
      if (notes.value !== (task.description || "")) changes.description = notes.value;
      if (day.value !== date || hour.value !== time) {
        changes.due = dueFromInputs(day.value, hour.value) ?? "";
      }
      if (priority.value !== task.priority) changes.priority = priority.value;
      const newTags = tags.value.split(",").map((t) => t.trim().replace(/^#/, "")).filter(Boolean);
      if (newTags.join(",") !== (task.tags || []).join(",")) changes.tags = newTags;
      if (remind.value.trim() !== remindersText(task.reminders)) {
        changes.reminders = readReminders(remind.value);
      }
      const problem = await save(changes);
      if (problem) {
        error.textContent = problem;
        error.hidden = false;
        title.focus();
      }
    } },
    field("Title", title), field("Notes", notes),
    el("div", { class: "edit-row" }, field("Due date", day), field("Time", hour),
      field("Priority", priority)),
    field("Tags", tags), field("Remind", remind), error,
    el("div", { class: "edit-row" },
      el("button", { type: "submit", class: "small primary" }, "Save"),
      el("button", { type: "button", class: "small", onclick: cancel }, "Cancel")));
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.stopPropagation();
      cancel();
    }
  });
  return { form, focus: () => { title.focus(); title.select(); } };
}

/** Make `parent`'s children exactly `nodes`, moving only those out of place. */
export function reconcile(parent, nodes) {
  let i = 0;
  for (const node of nodes) {
    const at = parent.children[i];
    if (at !== node) parent.insertBefore(node, at || null);
    i += 1;
  }
  while (parent.children.length > nodes.length) parent.lastElementChild.remove();
}
