// The share dialog of a list: who can see it (member chips, the owner first), sharing it
// with someone by their user id as editor or viewer, removing a member, and leaving a list
// shared with you. The task server decides who may do what; its refusals are said here.

import { getJson, plainMessage, sendJson } from "./client.js";
import { el, replaceChildren } from "./dom.js";

const ROLE_WORD = { owner: "owner", editor: "can edit", viewer: "can view" };

export class ShareDialog {
  /**
   * @param {() => void} changed  after a share, a removal or leaving (the lists changed)
   */
  constructor(changed) {
    this.changed = changed;
    this.list = null;
    this.heading = el("h2", { id: "share-heading" });
    this.members = el("ul", { class: "member-chips", "aria-label": "Who can see it" });
    this.error = el("p", { class: "field-error", role: "alert", hidden: true });
    this.who = el("input", { id: "share-user", type: "text", autocomplete: "off",
      required: true, maxlength: 200 });
    this.role = el("select", { id: "share-role" },
      el("option", { value: "editor" }, "Can edit"), el("option", { value: "viewer" }, "Can view"));
    this.form = el("form", { class: "share-form", onsubmit: (event) => {
      event.preventDefault();
      this.#act(() => sendJson(`/api/lists/${this.list.list_id}/members`,
        { user_id: this.who.value.trim(), role: this.role.value }), () => { this.who.value = ""; });
    } },
    el("label", { for: "share-user" }, "User id"), this.who,
    el("label", { for: "share-role" }, "Role"), this.role,
    el("button", { type: "submit", class: "small primary" }, "Share"));
    this.note = el("p", { class: "muted share-note" });
    this.leave = el("button", { type: "button", class: "small danger", onclick: () =>
      this.#act(() => sendJson(
        `/api/lists/${this.list.list_id}/members/${encodeURIComponent(this.me)}`, {}, "DELETE"),
      () => this.dialog.close()) }, "Leave this list");
    this.dialog = el("dialog", { id: "share-dialog", class: "share-dialog",
      "aria-labelledby": "share-heading" },
    this.heading, this.note, this.members, this.form, this.leave, this.error,
    el("form", { method: "dialog" }, el("button", { class: "small" }, "Close")));
    document.body.append(this.dialog);
  }

  /**
   * Open for `list` (a list_lists entry), as `me`; `local` when the server has one user.
   */
  async open(list, me, local) {
    this.list = list;
    this.me = me;
    const owner = !list.role || list.role === "owner";
    replaceChildren(this.heading, owner ? `Share “${list.name}”` : `“${list.name}”`);
    this.note.textContent = local
      ? "Sharing needs users who sign in: this server runs in local mode, with only you."
      : owner ? "Share it by user id: editors add, change and complete its tasks, viewers read."
        : `Shared with you by ${list.owner}: you ${ROLE_WORD[list.role]}.`;
    this.form.hidden = local || !owner;
    this.leave.hidden = owner;
    this.#say(null);
    replaceChildren(this.members);
    this.dialog.showModal();
    (this.form.hidden ? this.dialog.querySelector("[method=dialog] button") : this.who).focus();
    if (!local) {
      try {
        this.#show(await getJson(`/api/lists/${list.list_id}/members`));
      } catch (error) {
        this.#say(plainMessage(error));
      }
    }
  }

  #say(problem) {
    this.error.textContent = problem || "";
    this.error.hidden = !problem;
  }

  async #act(request, after) {
    this.#say(null);
    try {
      const answer = await request();
      if (answer?.members) this.#show(answer);
      after();
      this.changed();
    } catch (error) {
      this.#say(plainMessage(error));
    }
  }

  #show({ members }) {
    const owner = !this.list.role || this.list.role === "owner";
    replaceChildren(this.members, members.map((member) => el("li", { class: "chip member" },
      el("span", { dir: "auto" }, `${member.user_id === this.me ? "You" : member.user_id} · ${
        ROLE_WORD[member.role] || member.role}`),
      owner && member.role !== "owner" ? el("button", { type: "button", class: "chip-remove",
        "aria-label": `Remove ${member.user_id}`, onclick: () => this.#act(() => sendJson(
          `/api/lists/${this.list.list_id}/members/${encodeURIComponent(member.user_id)}`, {},
          "DELETE"), () => this.who.focus()) }, "×") : null)));
  }
}
