// Reminders: a task with a due time raises an in-page reminder at that time and, once the
// user allows it, a browser notification. Each (task, due time) reminds once, across reloads.

import { el } from "./dom.js";
import { dueText, parseDue } from "./dates.js";

const SEEN_KEY = "taskchat:reminded";
const HORIZON_MS = 24 * 60 * 60 * 1000; // timers further out are set on a later refresh

function seen() {
  try {
    return new Set(JSON.parse(localStorage.getItem(SEEN_KEY) || "[]"));
  } catch {
    return new Set();
  }
}

function remember(key) {
  const keys = [...seen(), key].slice(-500);
  localStorage.setItem(SEEN_KEY, JSON.stringify(keys));
}

export class Reminders {
  /**
   * @param {HTMLElement} area  where in-page reminders appear
   * @param {HTMLButtonElement} allowButton  asks for notification permission
   */
  constructor(area, allowButton) {
    this.area = area;
    this.allowButton = allowButton;
    this.timers = new Map(); // "id@due" -> timer
    const canAsk = "Notification" in window && Notification.permission === "default";
    allowButton.hidden = !canAsk;
    allowButton.addEventListener("click", async () => {
      await Notification.requestPermission();
      allowButton.hidden = Notification.permission !== "default";
    });
  }

  /** Set a timer for each open task due (with a time) later on; drop the others. */
  schedule(tasks, now = Date.now()) {
    const wanted = new Map();
    const done = seen();
    for (const task of tasks) {
      const parsed = parseDue(task.due);
      if (!parsed || parsed.allDay || task.completed) continue;
      const key = `${task.id}@${task.due}`;
      const delay = parsed.at.getTime() - now;
      if (delay < 0 || delay > HORIZON_MS || done.has(key)) continue;
      wanted.set(key, task);
    }
    for (const [key, timer] of this.timers) {
      if (!wanted.has(key)) {
        clearTimeout(timer);
        this.timers.delete(key);
      }
    }
    for (const [key, task] of wanted) {
      if (this.timers.has(key)) continue;
      const delay = parseDue(task.due).at.getTime() - now;
      this.timers.set(key, setTimeout(() => this.#remind(key, task), delay));
    }
  }

  #remind(key, task) {
    this.timers.delete(key);
    if (seen().has(key)) return; // another tab got there first
    remember(key);
    const text = `“${task.title}” is due now (${dueText(task.due)}).`;
    const note = el("div", { class: "reminder", role: "alert", dataset: { taskId: task.id } },
      el("span", {}, el("strong", {}, "Reminder: "), text),
      el("button", { type: "button", class: "small", onclick: () => note.remove() }, "Dismiss"));
    this.area.append(note);
    if ("Notification" in window && Notification.permission === "granted") {
      new Notification("taskchat reminder", { body: text, tag: key });
    }
  }
}
