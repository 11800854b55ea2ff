// Keyboard shortcuts for the tasks panel, and the help overlay `?` opens. A shortcut never
// fires while the user types in a field (except Escape), nor with Ctrl, Alt or Meta held,
// except Ctrl+Z (Cmd+Z) for undo outside a field.

import { el } from "./dom.js";

export const SHORTCUTS = [
  [["q", "n"], "Quick add a task"],
  [["/"], "Search tasks"],
  [["j", "↓"], "Next task"],
  [["k", "↑"], "Previous task"],
  [["x"], "Complete or reopen the task"],
  [["e"], "Edit the task"],
  [["#", "Delete"], "Delete the task"],
  [["u", "Ctrl+Z"], "Undo"],
  [["?"], "Show these shortcuts"],
  [["Esc"], "Close, cancel an edit"],
];

const NOT_TYPED = new Set(["checkbox", "radio", "button", "submit", "reset"]);

/** True in a field that takes text (a checkbox or a button takes shortcuts). */
function typing(target) {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable || target.closest("textarea, select")) return true;
  return target instanceof HTMLInputElement && !NOT_TYPED.has(target.type);
}

/** The help overlay: a modal dialog listing SHORTCUTS. */
function helpDialog() {
  const dialog = el("dialog", { id: "shortcuts", class: "shortcuts",
    "aria-labelledby": "shortcuts-heading" },
    el("h2", { id: "shortcuts-heading" }, "Keyboard shortcuts"),
    el("dl", {}, SHORTCUTS.flatMap(([keys, what]) => [
      el("dt", {}, keys.flatMap((key, i) => [i ? " or " : "", el("kbd", {}, key)])),
      el("dd", {}, what)])),
    el("form", { method: "dialog" }, el("button", { class: "small primary" }, "Close")));
  document.body.append(dialog);
  return dialog;
}

/**
 * Wire the shortcuts to `panel` (a TasksPanel); `showPanel()` opens the tasks sheet on a
 * phone first.
 */
export function wireShortcuts(panel, showPanel) {
  let dialog = null;
  const onTask = (act) => {
    const task = panel.currentTask();
    if (task) act(task);
  };
  const actions = {
    q: () => { showPanel(); panel.focusQuickAdd(); },
    n: () => { showPanel(); panel.focusQuickAdd(); },
    "/": () => { showPanel(); panel.focusSearch(); },
    j: () => { showPanel(); panel.step(1); },
    k: () => { showPanel(); panel.step(-1); },
    x: () => onTask((task) => panel.toggle(task, !task.completed)),
    e: () => onTask((task) => panel.edit(task)),
    "#": () => onTask((task) => panel.remove(task)),
    Delete: () => onTask((task) => panel.remove(task)),
    u: () => panel.undoLast(),
    "?": () => {
      dialog ??= helpDialog();
      if (!dialog.open) dialog.showModal();
    },
  };
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.isComposing || typing(event.target)) return;
    if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === "z") {
      if (panel.undoLast()) event.preventDefault();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const act = actions[event.key];
    if (!act) return;
    // Delete and x act on a task only when one is focused or chosen, never by surprise.
    if (["x", "e", "#", "Delete"].includes(event.key) && !panel.currentTask()) return;
    event.preventDefault();
    act();
  });
}
