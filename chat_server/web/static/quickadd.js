// Quick add reads what you type the way the chat does ("water plants tomorrow 8am !high
// #home"): the server's offline model reads it (POST /api/tasks/parse) and the form shows
// what it understood as chips (date, time, priority, tags, list, repeat, reminders), each
// removable before the task is added. A date or time picked in the form's own fields wins
// over the text's.

import { sendJson } from "./client.js";
import { dueFromInputs, dueText, parseDue, reminderWords, ruleWords } from "./dates.js";
import { el, replaceChildren } from "./dom.js";

const READ_DELAY_MS = 200;
const REPEAT_WORD = { daily: "Every day", weekly: "Every week", monthly: "Every month",
  yearly: "Every year" };

/** The chips for one reading: [field, text, aria name] for each thing understood. */
function chipsOf(task) {
  const chips = [];
  const due = parseDue(task.due);
  if (due) {
    const [day, ...time] = dueText(task.due).split(" ");
    chips.push(["date", `📅 ${day}`, `date ${day}`]);
    if (!due.allDay) chips.push(["time", `⏰ ${time.join(" ")}`, `time ${time.join(" ")}`]);
  }
  if (task.priority && task.priority !== "medium") {
    chips.push(["priority", `! ${task.priority}`, `${task.priority} priority`]);
  }
  for (const tag of task.tags || []) chips.push([`tag:${tag}`, `#${tag}`, `tag ${tag}`]);
  if (task.list) chips.push(["list", `≡ ${task.list}`, `list ${task.list}`]);
  const repeat = task.repeat ? ruleWords(task.repeat)
    : task.recurrence && task.recurrence !== "none"
      ? REPEAT_WORD[task.recurrence] || task.recurrence : null;
  if (repeat) chips.push(["repeat", `↻ ${repeat}`, `repeat ${repeat}`]);
  (task.reminders || []).forEach((reminder, i) => {
    const words = reminderWords(reminder);
    chips.push([`reminder:${i}`, `🔔 ${words}`, `reminder ${words}`]);
  });
  return chips;
}

/** `task` without what the user removed; a removed time keeps the date (all day). */
function without(task, removed) {
  const out = { ...task };
  if (removed.has("date")) delete out.due;
  else if (removed.has("time") && out.due?.includes("T")) {
    const at = parseDue(out.due).at;
    out.due = dueFromInputs(at.toLocaleDateString("en-CA"), "");
  }
  if (removed.has("priority")) delete out.priority;
  if (removed.has("repeat")) {
    delete out.repeat;
    delete out.recurrence;
  }
  if (removed.has("list")) delete out.list;
  if (out.tags) out.tags = out.tags.filter((tag) => !removed.has(`tag:${tag}`));
  if (out.reminders) {
    out.reminders = out.reminders.filter((_, i) => !removed.has(`reminder:${i}`));
    if (!out.reminders.length) delete out.reminders;
  }
  return out;
}

export class QuickAdd {
  /**
   * @param {HTMLFormElement} form  #quick-add, with its title, date and time inputs
   * @param {(tasks: object[]) => Promise<string|null>} add  adds them; a refusal's words
   */
  constructor(form, add) {
    this.form = form;
    this.add = add;
    this.title = form.querySelector("#quick-add-title");
    this.date = form.querySelector("#quick-add-date");
    this.time = form.querySelector("#quick-add-time");
    this.preview = form.querySelector("#quick-add-preview");
    this.error = form.querySelector("#quick-add-error");
    this.reading = null; // { text, tasks }
    this.removed = new Set();
    this.title.addEventListener("input", () => {
      this.#say(null);
      this.removed.clear();
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.#read(), READ_DELAY_MS);
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#submit();
    });
  }

  focus() {
    this.title.focus();
  }

  async #read() {
    const text = this.title.value.trim();
    if (!text) {
      this.reading = null;
      this.#show();
      return null;
    }
    if (this.reading?.text === text) return this.reading;
    let tasks;
    try {
      tasks = (await sendJson("/api/tasks/parse", { text })).tasks;
    } catch {
      tasks = [{ title: text }]; // added as written; the add itself says what went wrong
    }
    if (this.title.value.trim() !== text) return null; // typed on meanwhile
    this.reading = { text, tasks };
    this.#show();
    return this.reading;
  }

  #show() {
    const tasks = this.reading?.tasks || [];
    const items = tasks.map((task) => {
      const shown = without(task, this.removed);
      return el("li", { class: "reading" },
        el("span", { class: "reading-title", dir: "auto" }, shown.title),
        chipsOf(task).filter(([field]) => !this.removed.has(field)).map(([field, text, name]) =>
          el("span", { class: "chip", dataset: { field } }, text,
            el("button", { type: "button", class: "chip-remove", "aria-label": `Remove ${name}`,
              onclick: () => {
                this.removed.add(field);
                this.#show();
                this.title.focus();
              } }, "×"))));
    });
    const useful = tasks.length > 1 || tasks.some((t) => chipsOf(t).length
      || t.title !== this.reading.text);
    replaceChildren(this.preview, useful ? el("ul", { "aria-label": "Will add" }, items) : null);
  }

  #say(problem) {
    this.error.textContent = problem || "";
    this.error.hidden = !problem;
    if (problem) this.title.setAttribute("aria-invalid", "true");
    else this.title.removeAttribute("aria-invalid");
  }

  async #submit() {
    clearTimeout(this.timer);
    const text = this.title.value.trim();
    if (!text) return;
    const reading = await this.#read();
    if (!reading) return;
    const picked = dueFromInputs(this.date.value, this.time.value);
    const tasks = reading.tasks.map((task) => {
      const out = without(task, this.removed);
      if (picked) out.due = picked;
      return out;
    });
    const problem = await this.add(tasks);
    if (problem) {
      this.#say(problem);
      this.title.focus();
      return;
    }
    this.form.reset();
    this.reading = null;
    this.removed.clear();
    this.#show();
    this.title.focus();
  }
}
