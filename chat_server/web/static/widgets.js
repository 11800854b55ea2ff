// Renders ChatKit widget JSON (the same JSON the official component renders) as plain DOM.
// Covers the components taskchat sends and the common layout ones; an unknown component
// shows its children, or nothing, rather than failing the whole message.

import { dueText } from "./dates.js";
import { el } from "./dom.js";

const SPACING_PX = 4; // ChatKit spacing units are multiples of 4px.

function space(value) {
  if (value === undefined || value === null) return undefined;
  return typeof value === "number" ? `${value * SPACING_PX}px` : String(value);
}

function padding(value) {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object") return space(value);
  const y = value.y ?? 0;
  const x = value.x ?? 0;
  const sides = [value.top ?? y, value.right ?? x, value.bottom ?? y, value.left ?? x];
  return sides.map((side) => space(side)).join(" ");
}

const ALIGN = { start: "flex-start", end: "flex-end", center: "center", baseline: "baseline",
  stretch: "stretch" };
const JUSTIFY = { start: "flex-start", end: "flex-end", center: "center", between: "space-between",
  around: "space-around", evenly: "space-evenly", stretch: "stretch" };

function boxStyle(node) {
  return {
    gap: space(node.gap),
    alignItems: ALIGN[node.align],
    justifyContent: JUSTIFY[node.justify],
    flexWrap: node.wrap,
    flex: node.flex === undefined ? undefined : String(node.flex),
    padding: padding(node.padding),
    margin: padding(node.margin),
    width: space(node.width),
    height: space(node.height),
    minWidth: space(node.minWidth),
    maxWidth: space(node.maxWidth),
  };
}

function clean(style) {
  return Object.fromEntries(Object.entries(style).filter(([, v]) => v !== undefined));
}

function tone(prefix, color) {
  return typeof color === "string" && /^[a-z-]+$/.test(color) ? `${prefix}-${color}` : "";
}

/** The first text of a row or card: used to name its buttons for screen readers. */
function titleOf(node) {
  if (!node || typeof node !== "object") return "";
  if (node.type === "Title" || node.type === "Text") return node.value || "";
  for (const child of node.children || []) {
    const found = titleOf(child);
    if (found) return found;
  }
  return "";
}

const DUE_CAPTION = /^Due (\d{4}-\d{2}-\d{2})(?: (\d{2}:\d{2}) UTC)?$/;

/** "Due 2025-06-02 14:30 UTC" (the server's words) as "Due Tomorrow 4:30 PM" in local time. */
function friendlyDue(value) {
  const match = DUE_CAPTION.exec(value || "");
  if (!match) return value;
  return `Due ${dueText(match[2] ? `${match[1]}T${match[2]}:00Z` : match[1])}`;
}

function status(node) {
  if (!node.status || !node.status.text) return null;
  return el("div", { class: "w-status" }, node.status.text);
}

/**
 * Render a widget root. `onAction(action)` is called when a button with an action is
 * pressed; it returns a promise, and the widget's buttons are disabled until it settles.
 */
export function renderWidget(root, onAction) {
  const container = el("div", { class: "widget", dataset: { widget: root.type } });
  const context = { onAction, container, subject: "", pending: { busy: false } };
  container.append(render(root, context));
  return container;
}

function render(node, ctx) {
  if (!node || typeof node !== "object") return null;
  const kids = (inner = ctx) => (node.children || []).map((child) => render(child, inner));
  switch (node.type) {
    case "Card": {
      const inner = { ...ctx, subject: titleOf(node) };
      // A group, not a region: a landmark per card would crowd the landmark list.
      return el("div", { class: `w-card w-card-${node.size || "md"}`, role: "group",
        "aria-label": inner.subject ? `Task: ${inner.subject}` : undefined,
        dataset: node.key ? { key: node.key } : undefined },
        status(node),
        el("div", { class: "w-card-body", style: clean({ padding: padding(node.padding) }) },
          kids(inner)));
    }
    case "ListView":
      return el("div", { class: "w-list" },
        status(node),
        el("ul", { class: "w-list-items" }, kids()));
    case "ListViewItem": {
      const inner = { ...ctx, subject: titleOf(node) };
      return el("li", { class: "w-item", dataset: node.key ? { key: node.key } : undefined,
        style: clean(boxStyle(node)) }, kids(inner));
    }
    case "Row":
    case "Col":
    case "Box": {
      const direction = node.type === "Col" || node.direction === "col" ? "col" : "row";
      return el("div", { class: `w-box w-${direction}`, style: clean(boxStyle(node)) }, kids());
    }
    case "Form":
      return el("div", { class: "w-box w-col", style: clean(boxStyle(node)) }, kids());
    case "Title":
      return el("h3", { class: `w-title w-title-${node.size || "md"} ${tone("c", node.color)}`,
        dir: "auto" }, node.value);
    case "Text":
    case "Markdown": {
      const classes = ["w-text", `w-text-${node.size || "md"}`, tone("c", node.color),
        node.weight ? `w-${node.weight}` : "", node.italic ? "w-italic" : ""];
      const text = node.lineThrough ? el("s", {}, node.value) : node.value;
      return el("p", { class: classes.join(" "), dir: "auto" }, text);
    }
    case "Caption":
      return el("span", { class: `w-caption ${tone("c", node.color)}` }, friendlyDue(node.value));
    case "Label":
      return el("span", { class: "w-label" }, node.value);
    case "Badge":
      return el("span", {
        class: `w-badge ${tone("b", node.color || "secondary")} w-v-${node.variant || "soft"}`,
      }, node.label);
    case "Button":
      return button(node, ctx);
    case "Divider":
      return el("hr", { class: "w-divider" });
    case "Spacer":
      return el("div", { class: "w-spacer", "aria-hidden": "true" });
    case "Icon":
    case "Image":
      return null; // Decorative here; no remote images are fetched.
    default:
      return node.children ? el("div", { class: "w-box w-col" }, kids()) : null;
  }
}

function button(node, ctx) {
  const label = node.label || "Action";
  const classes = `w-btn ${tone("btn", node.color || "secondary")} w-v-${node.variant || "solid"}`;
  const action = node.onClickAction;
  return el("button", {
    type: "button",
    class: classes,
    disabled: node.disabled || !action,
    "aria-label": ctx.subject ? `${label}: ${ctx.subject}` : undefined,
    onclick: async () => {
      if (!action || !ctx.onAction || ctx.pending.busy) return;
      // aria-disabled, not disabled: a disabled button drops keyboard focus mid-action.
      const buttons = ctx.container.querySelectorAll("button");
      ctx.pending.busy = true;
      buttons.forEach((b) => b.setAttribute("aria-disabled", "true"));
      try {
        await ctx.onAction(action);
      } finally {
        // The widget is usually redrawn by then; re-enable in case it was not.
        ctx.pending.busy = false;
        buttons.forEach((b) => b.removeAttribute("aria-disabled"));
      }
    },
  }, label);
}

const TASK_KEY = /^task-(\d+)$/;

function walk(node, visit) {
  if (!node || typeof node !== "object") return;
  visit(node);
  for (const child of node.children || []) walk(child, visit);
}

/** The ids of the tasks a widget shows (its rows and cards keyed `task-N`). */
export function taskIdsOf(tree) {
  const ids = [];
  walk(tree, (node) => {
    const match = TASK_KEY.exec(node.key || "");
    if (match) ids.push(Number(match[1]));
  });
  return ids;
}

// A card's header says what last happened to its task; these say it of a task's state.
const HEADERS = new Set(["Task added", "Task updated", "Task completed", "Task reopened",
  "Task deleted", "Task restored"]);

function header(status, task) {
  if (!status?.text || !HEADERS.has(status.text)) return status;
  const text = !task ? "Task deleted"
    : task.completed ? "Task completed"
      : status.text === "Task completed" ? "Task reopened"
        : status.text === "Task deleted" ? "Task restored" : status.text;
  return { ...status, text };
}

/**
 * Bring a widget tree in line with the tasks as they are now (changed elsewhere): a done
 * task shows Done and Reopen, an open one Complete, a deleted one Deleted with its buttons
 * disabled (but Undo, of use only to a deleted one). `deletedKnown` says a task missing
 * from `tasks` is really gone (the list was complete). Returns the new tree, or null when
 * nothing changed.
 */
export function syncWidget(tree, tasks, deletedKnown) {
  const copy = structuredClone(tree);
  let changed = false;
  walk(copy, (node) => {
    const match = TASK_KEY.exec(node.key || "");
    if (!match) return;
    const task = tasks.get(Number(match[1]));
    if (!task && !deletedKnown) return;
    if (syncTask(node, task)) changed = true;
  });
  return changed ? copy : null;
}

function syncTask(node, task) {
  const before = JSON.stringify(node);
  if (node.type === "Card") node.status = header(node.status, task);
  const gone = !task;
  const done = gone || task.completed;
  let titled = false;
  walk(node, (part) => {
    if (!titled && (part.type === "Title" || (part.type === "Text" && part.weight === "semibold"))) {
      titled = true;
      if (part.type === "Text") part.lineThrough = done || undefined;
      part.color = done ? "secondary" : undefined;
    }
    if (part.type === "Row" && (part.children || []).some((c) => c.type === "Badge" || c.type === "Caption")) {
      part.children = part.children.filter((c) => !(c.type === "Badge" && ["Done", "Deleted"].includes(c.label)));
      const badge = gone ? { type: "Badge", label: "Deleted", color: "danger" }
        : task.completed ? { type: "Badge", label: "Done", color: "success" } : null;
      if (badge) part.children.splice(1, 0, badge);
    }
    if (part.type === "Button") {
      const kind = part.onClickAction?.type;
      // Undo brings a deleted task back: of use only while the task is gone.
      part.disabled = (kind === "task.restore" ? !gone : gone) || undefined;
      if (gone) return;
      if (kind === "task.complete" && task.completed) {
        Object.assign(part, { label: "Reopen", color: "secondary", variant: "outline" });
        part.onClickAction = { ...part.onClickAction, type: "task.reopen" };
      } else if (kind === "task.reopen" && !task.completed) {
        Object.assign(part, { label: "Complete", color: "success", variant: "solid" });
        part.onClickAction = { ...part.onClickAction, type: "task.complete" };
      }
    }
  });
  return JSON.stringify(node) !== before;
}
