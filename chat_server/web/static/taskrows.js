// One task's row in the panel, its edit-in-place form, and a reconcile step that moves
// existing nodes instead of rebuilding the list: a refresh with 1,000 tasks touches only
// the rows that changed, and the row the user is on keeps its focus.

import { dueFromInputs, dueText, inputsFromDue, isOverdue } from "./dates.js";
import { el } from "./dom.js";

const PRIORITY_WORD = { high: "High priority", low: "Low priority" };
const REPEAT_WORD = { daily: "Daily", weekly: "Weekly", monthly: "Monthly", yearly: "Yearly" };

/**
 * The task's repeat rule in words ("every 2 weeks on Tue and Thu"; "every 3 days after
 * it's done" when it counts from completion), or null.
 */
export function repeatText(task) {
  const words = task.repeat_text;
  if (words) {
    const after = task.repeat_from === "completion" ? " after it's done" : "";
    return words.charAt(0).toLocaleUpperCase() + words.slice(1) + after;
  }
  if (!task.recurrence || task.recurrence === "none") return null;
  return REPEAT_WORD[task.recurrence] || "Repeats";
}

/** What a row shows, as one string: the row is rebuilt only when this changes. */
export function rowKey(task, now, current, shown = {}) {
  return JSON.stringify([task.title, task.completed, task.due, task.priority, task.tags,
    task.recurrence, task.repeat_text, task.repeat_from, dueText(task.due, now), isOverdue(task, now), current,
    task.pending === true, shown, task.changed_by, task.assignee]);
}

/**
 * A task's row. Only the current row's controls are in the tab order (a roving tabindex):
 * Tab crosses the list in one step, and arrows or j/k move between rows.
 * @param {object} task
 * @param {Date} now
 * @param {boolean} current
 * @param {{toggle: Function, edit: Function, remove: Function}} act
 * @param {{depth?: number, list?: string|null, shared?: {owner: string, me: string|null}|null}}
 *   shown  how deep a subtask sits, the list to name, and the shared list it is in
 */
export function taskRow(task, now, current, act, shown = {}) {
  const overdue = isOverdue(task, now);
  const tab = current ? 0 : -1;
  // The title is the checkbox's name but not its label: a double-click on it edits
  // the task rather than ticking it twice.
  const box = el("input", { type: "checkbox", checked: task.completed, tabindex: tab,
    "aria-labelledby": `task-title-${task.id}`, dataset: { control: "check" },
    onchange: () => act.toggle(task, box.checked) });
  const due = dueText(task.due, now);
  const repeat = repeatText(task);
  const depth = shown.depth || 0;
  const shared = shown.shared;
  const byOther = (who) => who && shared && who !== shared.me;
  const classes = ["panel-task", task.completed && "done", overdue && "overdue",
    task.pending && "pending", depth && "subtask"].filter(Boolean).join(" ");
  return el("li", {
    class: classes,
    // Dragged onto another group (Today, a day of Upcoming, No date), it moves there.
    draggable: task.completed ? undefined : "true",
    ondragstart: (event) => {
      event.dataTransfer.setData("application/x-task-id", String(task.id));
      event.dataTransfer.effectAllowed = "move";
    },
    dataset: { taskId: task.id, completed: String(task.completed), priority: task.priority,
      ...(depth ? { depth: String(Math.min(depth, 3)) } : {}) },
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
      (task.tags || []).map((tag) => el("span", { class: "tag", dir: "auto" }, `#${tag}`)),
      shown.list ? el("span", { class: "list-name", dir: "auto" }, `≡ ${shown.list}`) : null,
      shared ? el("span", { class: "shared-mark", dir: "auto" },
        shared.owner === shared.me ? "Shared" : `Shared by ${shared.owner}`) : null,
      task.assignee ? el("span", { class: "assignee", dir: "auto" },
        task.assignee === shared?.me ? "Assigned to you" : `For ${task.assignee}`) : null,
      task.completed && byOther(task.changed_by)
        ? el("span", { class: "changed-by", dir: "auto" }, `Completed by ${task.changed_by}`)
        : null),
    el("div", { class: "row-actions" },
      el("button", { type: "button", class: "icon panel-edit", tabindex: tab,
        "aria-label": `Edit: ${task.title}`, title: "Edit (e)", dataset: { control: "edit" },
        onclick: () => act.edit(task) }, "✎"),
      el("button", { type: "button", class: "icon danger panel-delete", tabindex: tab,
        "aria-label": `Delete: ${task.title}`, title: "Delete (#)", dataset: { control: "delete" },
        onclick: () => act.remove(task) }, "✕")));
}

// The repeat rules the edit form offers; a task's own other rule is kept as it is.
const REPEATS = [["", "Doesn't repeat"], ["FREQ=DAILY", "Every day"],
  ["FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "Every weekday"], ["FREQ=WEEKLY", "Every week"],
  ["FREQ=WEEKLY;INTERVAL=2", "Every 2 weeks"], ["FREQ=MONTHLY", "Every month"],
  ["FREQ=YEARLY", "Every year"]];
// Where a rule counts from: the schedule, or the day the task was done ("3 days after").
const REPEAT_FROM = [["due", "On schedule"], ["completion", "After I finish it"]];
const REMINDERS = [["", "No reminder"], ["PT0M", "At the due time"],
  ["PT10M", "10 min before"], ["PT30M", "30 min before"], ["PT1H", "1 h before"],
  ["P1D", "1 day before"]];

function options(choices, current, keep) {
  const known = choices.some(([value]) => value === current);
  return [...(known ? [] : [[current, keep]]), ...choices].map(([value, label]) =>
    el("option", { value, selected: value === current }, label));
}

/**
 * The edit-in-place form for `task`: title, notes, date and time, priority, tags, list,
 * repeat rule (and what it counts from, shown while there is one) and a reminder.
 * `save(changes)` gets only what changed; `cancel()` on Cancel or Escape. `lists` are the
 * lists it can move to (its own among them).
 */
export function editForm(task, { save, cancel }, lists = []) {
  const { date, time } = inputsFromDue(task.due);
  const id = `edit-${task.id}`;
  // The label names its control alone (a select's options are not part of its name).
  const field = (label, input) => {
    input.id ||= `${id}-${label.toLowerCase().replace(/\W+/g, "-")}`;
    return el("div", { class: "edit-field" }, el("label", { for: input.id }, label), input);
  };
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
  const movable = lists.filter((l) => !l.role || l.role !== "viewer");
  const list = movable.length > 1 && !task.parent_id ? el("select", {},
    movable.map((l) => el("option", { value: l.name, selected: l.list_id === task.list_id },
      l.name))) : null;
  const rule = task.repeat || "";
  const repeat = el("select", {}, options(REPEATS, rule, repeatText(task) || rule));
  const counted = task.repeat_from || "due";
  const from = el("select", {}, options(REPEAT_FROM, counted));
  const fromField = field("Repeat from", from);
  const showFrom = () => { fromField.hidden = !repeat.value; };
  repeat.addEventListener("change", showFrom);
  showFrom();
  const before = task.reminders?.length === 1 ? task.reminders[0].before || "" : "";
  const several = (task.reminders?.length || 0) > 1 || task.reminders?.[0]?.at;
  const reminder = el("select", {}, options(REMINDERS, several ? "keep" : before,
    `Keep ${task.reminders?.length || 0} reminder(s)`));
  const error = el("p", { class: "field-error", role: "alert", hidden: true });
  const changesMade = () => {
    const changes = {};
    if (title.value.trim() !== task.title) changes.title = title.value.trim();
    if (notes.value !== (task.description || "")) changes.description = notes.value;
    if (day.value !== date || hour.value !== time) {
      changes.due = dueFromInputs(day.value, hour.value) ?? "";
    }
    if (priority.value !== task.priority) changes.priority = priority.value;
    const newTags = tags.value.split(",").map((t) => t.trim().replace(/^#/, "")).filter(Boolean);
    if (newTags.join(",") !== (task.tags || []).join(",")) changes.tags = newTags;
    if (list && list.value !== task.list) changes.list = list.value;
    if (repeat.value !== rule) changes.repeat = repeat.value;
    if (repeat.value && from.value !== counted) changes.repeat_from = from.value;
    if (reminder.value !== "keep" && reminder.value !== (several ? "keep" : before)) {
      changes.reminders = reminder.value ? [{ before: reminder.value }] : [];
    }
    return changes;
  };
  const form = el("form", { class: "panel-edit-form", "aria-label": `Edit “${task.title}”`,
    onsubmit: async (event) => {
      event.preventDefault();
      const problem = await save(changesMade());
      if (problem) {
        error.textContent = problem;
        error.hidden = false;
        title.focus();
      }
    } },
    field("Title", title), field("Notes", notes),
    el("div", { class: "edit-row" }, field("Due date", day), field("Time", hour),
      field("Priority", priority)),
    field("Tags", tags),
    el("div", { class: "edit-row" }, list ? field("List", list) : null,
      field("Repeat", repeat), fromField, field("Reminder", reminder)),
    error,
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
