// Reminders in the page, and the way they reach the user with the page closed.
//
// In the page: a task with a due time raises a reminder at that time, with Done and Snooze
// buttons; each (task, due time) reminds once, across reloads. "Allow notifications" also
// subscribes this browser to Web Push (the server's VAPID key from /api/push/key, the
// subscription saved as a "webpush" channel), and registers the service worker (/sw.js)
// that shows the server's reminders as system notifications while no tab is open.

import { el } from "./dom.js";
import { dueText, parseDue } from "./dates.js";
import { getJson, plainMessage, sendJson } from "./client.js";
import { ReminderSettings } from "./reminder-settings.js";

const SEEN_KEY = "taskchat:reminded";
const PUSH_KEY = "taskchat:push-key"; // the server key this browser subscribed with
const HORIZON_MS = 24 * 60 * 60 * 1000; // timers further out are set on a later refresh
const SNOOZE_MINUTES = 15;

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

function pushSupported() {
  return "serviceWorker" in navigator && "PushManager" in window && window.isSecureContext;
}

function keyBytes(base64url) {
  const text = atob(base64url.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

/**
 * Subscribe this browser to the server's pushes (again, if the server's key changed) and
 * save the subscription as a channel. Returns false where the browser cannot.
 */
export async function subscribePush() {
  if (!pushSupported() || Notification.permission !== "granted") return false;
  const registration = await navigator.serviceWorker.register("/sw.js");
  await navigator.serviceWorker.ready;
  const { key } = await getJson("/api/push/key");
  let subscription = await registration.pushManager.getSubscription();
  if (subscription && localStorage.getItem(PUSH_KEY) !== key) {
    await subscription.unsubscribe();
    subscription = null;
  }
  if (!subscription) {
    subscription = await registration.pushManager.subscribe({
      userVisibleOnly: true, applicationServerKey: keyBytes(key),
    });
  }
  await sendJson("/api/channels", { type: "webpush", subscription: subscription.toJSON() });
  localStorage.setItem(PUSH_KEY, key);
  return true;
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
      this.#subscribe();
    });
    if ("Notification" in window && Notification.permission === "granted") this.#subscribe();
    this.settings = new ReminderSettings(allowButton, async () => {
      if (!("Notification" in window)) return false;
      await Notification.requestPermission();
      allowButton.hidden = Notification.permission !== "default";
      return subscribePush();
    });
    this.settings.warn(area);
  }

  #subscribe() {
    // No push service (an offline machine, a browser without one): the page still reminds.
    subscribePush().catch((error) => console.warn("push subscription failed:", error));
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
    const status = el("span", { class: "reminder-status", role: "status" });
    const act = (label, url, body) => el("button", {
      type: "button", class: "small",
      onclick: async () => {
        try {
          await sendJson(url, body);
          note.remove();
        } catch (error) {
          status.textContent = plainMessage(error);
        }
      },
    }, label);
    const note = el("div", { class: "reminder", role: "alert", dataset: { taskId: task.id } },
      el("span", {}, el("strong", {}, "Reminder: "), text),
      act("Done", `/api/tasks/${task.id}/complete`, {}),
      act(`Snooze ${SNOOZE_MINUTES} min`, `/api/tasks/${task.id}/snooze`,
        { minutes: SNOOZE_MINUTES }),
      el("button", { type: "button", class: "small", onclick: () => note.remove() }, "Dismiss"),
      status);
    this.area.append(note);
    // With push on, the server's reminder shows as a notification of its own.
    if ("Notification" in window && Notification.permission === "granted"
        && !localStorage.getItem(PUSH_KEY)) {
      new Notification("taskchat reminder", { body: text, tag: key });
    }
  }
}
