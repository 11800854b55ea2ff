// "Reminder settings": where the user's reminders go (webhooks, email, ntfy topics, this
// browser's push) and the daily digest, over /api/channels and /api/digest. A failing
// channel shows its last error here, so the user can fix or remove it.

import { el, replaceChildren } from "./dom.js";
import { getJson, plainMessage, sendJson } from "./client.js";

const KINDS = {
  webhook: { label: "Webhook", field: "url", placeholder: "https://example.com/hook", type: "url" },
  email: { label: "Email", field: "address", placeholder: "you@example.com", type: "email" },
  ntfy: { label: "ntfy topic", field: "url", placeholder: "https://ntfy.sh/my-topic", type: "url" },
};

// The default reminder a new task with a due time gets (PUT /api/reminders/default).
const DEFAULTS = [["", "None"], ["PT0S", "At the due time"], ["PT10M", "10 min before"],
  ["PT30M", "30 min before"], ["PT1H", "1 h before"], ["P1D", "1 day before"]];

function channelWhere(channel) {
  if (channel.type === "webpush") return "a browser (push notifications)";
  return channel.url || channel.address || "";
}

export class ReminderSettings {
  /**
   * @param {HTMLElement} after  the settings button goes right after this element
   * @param {() => Promise<boolean>} enablePush  asks for permission and subscribes
   */
  constructor(after, enablePush) {
    this.enablePush = enablePush;
    this.button = el("button", { type: "button", id: "reminder-settings", class: "small",
      "aria-haspopup": "dialog", onclick: () => this.open() }, "Reminder settings");
    after.after(this.button);
    this.list = el("ul", { class: "channel-list", "aria-label": "Your reminder channels" });
    this.status = el("p", { class: "muted", role: "status", "aria-live": "polite" });
    this.kind = el("select", { id: "channel-type", onchange: () => this.#kindChanged() },
      Object.entries(KINDS).map(([value, kind]) => el("option", { value }, kind.label)));
    this.target = el("input", { id: "channel-target", required: true, autocomplete: "off" });
    this.digest = el("input", { id: "digest-time", type: "time" });
    this.fallback = el("select", { id: "default-reminder", onchange: () => this.#setDefault() },
      DEFAULTS.map(([value, label]) => el("option", { value }, label)));
    const pushButton = el("button", { type: "button", class: "small", onclick: async () => {
      try {
        this.status.textContent = await this.enablePush()
          ? "This browser will show reminders." : "This browser cannot show push reminders.";
        await this.#refresh();
      } catch (error) {
        this.status.textContent = plainMessage(error);
      }
    } }, "Enable browser notifications");
    const close = el("button", { type: "button", class: "small",
      onclick: () => this.dialog.close() }, "Close");
    this.dialog = el("dialog", { class: "shortcuts reminder-settings",
      "aria-labelledby": "reminder-settings-title" },
      el("h2", { id: "reminder-settings-title" }, "Reminder settings"),
      el("h3", {}, "Channels"), this.list,
      el("form", { class: "edit-row", onsubmit: (event) => this.#add(event) },
        el("label", { for: "channel-type" }, "Type"), this.kind,
        el("label", { for: "channel-target" }, "Where"), this.target,
        el("button", { type: "submit", class: "small primary" }, "Add channel")),
      pushButton,
      el("h3", {}, "New tasks"),
      el("div", { class: "edit-row" },
        el("label", { for: "default-reminder" }, "Remind me of a new task with a time"),
        this.fallback),
      el("h3", {}, "Daily digest"),
      el("form", { class: "edit-row", onsubmit: (event) => this.#setDigest(event) },
        el("label", { for: "digest-time" }, "Every day at"), this.digest,
        el("button", { type: "submit", class: "small" }, "Save digest"),
        el("button", { type: "button", class: "small", onclick: () => this.#setDigest(null) },
          "No digest")),
      this.status, close);
    document.body.append(this.dialog);
    this.#kindChanged();
  }

  /** Say in `area` that a channel is failing or paused: the user hears of it in the page. */
  async warn(area) {
    let channels;
    try {
      ({ channels } = await getJson("/api/channels"));
    } catch {
      return; // the tasks panel already says when the server cannot be reached
    }
    const bad = channels.filter((channel) => channel.status !== "ok");
    if (!bad.length) return;
    const which = bad.length === 1 ? "A reminder channel is" : `${bad.length} reminder channels are`;
    const note = el("div", { class: "reminder", role: "status", dataset: { channels: "failing" } },
      el("span", {}, el("strong", {}, "Reminders: "),
        `${which} failing (${bad[0].last_error || bad[0].status}).`),
      el("button", { type: "button", class: "small", onclick: () => {
        note.remove();
        this.open();
      } }, "Open reminder settings"),
      el("button", { type: "button", class: "small", onclick: () => note.remove() }, "Dismiss"));
    area.append(note);
  }

  async open() {
    this.status.textContent = "";
    this.dialog.showModal();
    await Promise.all([this.#refresh(), this.#readDigest(), this.#readDefault()]);
  }

  async #readDefault() {
    this.fallback.disabled = true; // until it shows what is set, a choice would be undone
    try {
      const { reminders } = await getJson("/api/reminders/default");
      const current = reminders.map((reminder) => reminder.before).join(",");
      if (!DEFAULTS.some(([value]) => value === current)) {
        this.fallback.append(el("option", { value: current }, `${reminders.length} reminders`));
      }
      this.fallback.value = current;
      this.fallback.disabled = false;
    } catch (error) {
      this.status.textContent = plainMessage(error);
    }
  }

  async #setDefault() {
    const reminders = this.fallback.value.split(",").filter(Boolean)
      .map((before) => ({ before }));
    const chosen = this.fallback.selectedOptions[0].text.toLowerCase();
    try {
      await sendJson("/api/reminders/default", { reminders }, "PUT");
      this.status.textContent = reminders.length
        ? `New tasks with a time get a reminder ${chosen}.`
        : "New tasks get no reminder unless you give them one.";
    } catch (error) {
      this.status.textContent = plainMessage(error);
    }
  }

  async #readDigest() {
    try {
      this.digest.value = (await getJson("/api/digest")).time || "";
    } catch (error) {
      this.status.textContent = plainMessage(error);
    }
  }

  #kindChanged() {
    const kind = KINDS[this.kind.value];
    this.target.type = kind.type;
    this.target.placeholder = kind.placeholder;
    this.target.setAttribute("aria-label", `${kind.label} ${kind.field}`);
  }

  async #refresh() {
    try {
      const { channels } = await getJson("/api/channels");
      replaceChildren(this.list, channels.length ? channels.map((channel) => this.#row(channel))
        : el("li", { class: "muted" }, "No channels yet: reminders show only in this page."));
    } catch (error) {
      this.status.textContent = plainMessage(error);
    }
  }

  #row(channel) {
    const problem = channel.status === "ok" ? null
      : el("span", { class: "field-error" },
        `${channel.status === "paused" ? "Paused" : "Failing"}: ${channel.last_error || ""}`);
    return el("li", { dataset: { channelId: channel.id } },
      el("strong", {}, KINDS[channel.type]?.label || "Browser"), " ", channelWhere(channel), " ",
      problem,
      el("button", { type: "button", class: "small", "aria-label":
        `Remove ${channel.type} ${channelWhere(channel)}`, onclick: async () => {
        try {
          await sendJson(`/api/channels/${channel.id}`, undefined, "DELETE").catch((error) => {
            if (error instanceof SyntaxError) return null; // 204: no JSON to read
            throw error;
          });
          this.status.textContent = "Channel removed.";
          await this.#refresh();
        } catch (error) {
          this.status.textContent = plainMessage(error);
        }
      } }, "Remove"));
  }

  async #add(event) {
    event.preventDefault();
    const kind = KINDS[this.kind.value];
    try {
      const made = await sendJson("/api/channels",
        { type: this.kind.value, [kind.field]: this.target.value.trim() });
      this.target.value = "";
      this.status.textContent = made.secret
        ? `Webhook added. Its signing secret (shown only now): ${made.secret}`
        : `${kind.label} added.`;
      await this.#refresh();
    } catch (error) {
      this.status.textContent = plainMessage(error);
    }
  }

  async #setDigest(event) {
    event?.preventDefault();
    const time = event ? this.digest.value || null : null;
    try {
      const answer = await sendJson("/api/digest", { time }, "PUT");
      this.status.textContent = answer.time
        ? `A digest of today's and overdue tasks comes every day at ${answer.time} (${answer.timezone}).`
        : "No daily digest.";
      if (!answer.time) this.digest.value = "";
    } catch (error) {
      this.status.textContent = plainMessage(error);
    }
  }
}
