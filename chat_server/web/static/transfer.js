// "Calendar, import and export" at the foot of the tasks panel: the private calendar feed
// URL (a new one, or off), app passwords for CalDAV clients (made and shown once, listed,
// revoked), a file upload to /api/import with its report, and downloads of /api/export.
// Every request goes through authFetch, so a JWT page and a signed-in one work alike; the
// upload is the one multipart write the server takes.

import { ApiError, authFetch, getJson, sendJson } from "./client.js";
import { el, replaceChildren } from "./dom.js";

const IMPORT_FORMATS = [
  ["", "Guess from the file"], ["todoist-csv", "Todoist CSV"], ["todoist-json", "Todoist JSON backup"],
  ["ticktick-csv", "TickTick CSV backup"], ["csv", "CSV"], ["json", "JSON"],
];
const EXPORT_FORMATS = [["json", "JSON"], ["csv", "CSV"], ["ics", "iCalendar"]];

async function checked(response) {
  if (response.ok) return response;
  let body = {};
  try {
    body = await response.json();
  } catch {
    // Not JSON: the status line says enough.
  }
  throw new ApiError(response.status, body.error || "http_error",
    body.message || `The server answered ${response.status} ${response.statusText}.`);
}

/** One line per item the report says was not imported (or not read whole). */
function reportLines(report) {
  const head = `${report.imported} imported, ${report.already_imported} already there, `
    + `${report.not_imported} not imported.`;
  const problems = report.problems.map((p) => el("li", {},
    `${p.item}${p.title ? ` “${p.title}”` : ""}: ${p.imported ? "imported, but " : ""}${p.reason}`));
  return [el("p", {}, head), problems.length ? el("ul", { class: "import-problems" }, problems) : null];
}

function feedPart(onError) {
  const url = el("input", { id: "feed-url", type: "text", readonly: true, hidden: true,
    "aria-label": "Your calendar feed URL" });
  const status = el("p", { id: "feed-status", class: "muted", role: "status" },
    "Subscribe to your dated tasks from a calendar app.");
  const off = el("button", { type: "button", class: "small", id: "feed-off" }, "Turn off");
  const make = el("button", { type: "button", class: "small", id: "feed-new" }, "New calendar URL");
  make.addEventListener("click", async () => {
    try {
      const answer = await sendJson("/api/calendar-feed");
      url.value = answer.url;
      url.hidden = false;
      url.select();
      status.textContent = "Anyone with this URL can read your dated tasks; a new URL stops the old one.";
    } catch (error) {
      onError(error);
    }
  });
  off.addEventListener("click", async () => {
    try {
      await sendJson("/api/calendar-feed", {}, "DELETE");
      url.value = "";
      url.hidden = true;
      status.textContent = "Calendar feed off: its URL no longer works.";
    } catch (error) {
      onError(error);
    }
  });
  return el("section", { "aria-labelledby": "feed-heading" },
    el("h3", { id: "feed-heading" }, "Calendar feed"), status, url,
    el("div", { class: "panel-actions" }, make, off));
}

/** Copy a field's value; where the clipboard is closed to the page, select it for Ctrl+C. */
async function copyField(input, status, what) {
  try {
    await navigator.clipboard.writeText(input.value);
    status.textContent = `${what} copied.`;
  } catch {
    input.focus();
    input.select();
    status.textContent = `${what} selected: press Ctrl+C (⌘C) to copy it.`;
  }
}

/** A read-only field with a label and a Copy button: [label, field and button]. */
function copyRow(id, label, status) {
  const input = el("input", { id, type: "text", readonly: true, spellcheck: "false" });
  const copy = el("button", { type: "button", class: "small", "aria-label": `Copy ${label.toLowerCase()}`,
    onclick: () => copyField(input, status, label) }, "Copy");
  return { input, row: [el("label", { for: id }, label),
    el("div", { class: "copy-field" }, input, copy)] };
}

function caldavPart(onError) {
  const status = el("p", { id: "caldav-status", class: "muted", role: "status" },
    "Sync your lists with a phone or calendar app: add a CalDAV account there with this "
    + "server address, your user name and an app password (one per device).");
  const server = copyRow("caldav-server", "Server address", status);
  server.input.value = `${location.origin}/caldav/`;
  const user = copyRow("caldav-user", "User name", status);
  const password = copyRow("caldav-password", "App password", status);
  const made = el("div", { id: "caldav-made", hidden: true }, user.row, password.row);
  const list = el("ul", { id: "app-passwords", "aria-label": "Your app passwords" });
  const make = el("button", { type: "button", class: "small", id: "app-password-new" },
    "New app password");
  let shownId = null;

  const revokeButtons = () => [...list.querySelectorAll("button")];
  async function revoke(id, button) {
    try {
      await sendJson(`/api/app-passwords/${id}`, {}, "DELETE");
    } catch (error) {
      onError(error);
      return;
    }
    const buttons = revokeButtons();
    const at = buttons.indexOf(button);
    if (id === shownId) {
      made.hidden = true;
      password.input.value = "";
      shownId = null;
    }
    status.textContent = `App password ${id} revoked: its device is signed out at its next sync.`;
    await load();
    // Focus where the removed button was: the next one, else the last, else New.
    const left = revokeButtons();
    (left[Math.min(at, left.length - 1)] || make).focus();
  }

  async function load() {
    let found;
    try {
      found = (await getJson("/api/app-passwords")).app_passwords;
    } catch (error) {
      onError(error);
      return;
    }
    replaceChildren(list, found.length ? found.map(({ id, created_at: created }) => el("li", {},
      `App password ${id}, made ${new Date(created).toLocaleString()} `,
      el("button", { type: "button", class: "small", "aria-label": `Revoke app password ${id}`,
        onclick: (event) => revoke(id, event.currentTarget) }, "Revoke")))
      : el("li", { class: "muted" }, "No app passwords yet."));
  }

  make.addEventListener("click", async () => {
    try {
      const answer = await sendJson("/api/app-passwords");
      server.input.value = answer.url;
      user.input.value = answer.username;
      password.input.value = answer.password;
      shownId = answer.id;
      made.hidden = false;
      status.textContent = `App password ${answer.id} made. It is shown only this once: `
        + "enter it in the app now.";
      password.input.focus();
      password.input.select();
      await load();
    } catch (error) {
      onError(error);
    }
  });
  const section = el("section", { "aria-labelledby": "caldav-heading" },
    el("h3", { id: "caldav-heading" }, "Phone and calendar app sync (CalDAV)"), status,
    server.row, made,
    el("div", { class: "panel-actions" }, make), list);
  return { section, load };
}

function importPart(onError, onImported) {
  const file = el("input", { id: "import-file", type: "file", required: true,
    accept: ".csv,.json,text/csv,application/json" });
  const format = el("select", { id: "import-format" },
    IMPORT_FORMATS.map(([value, label]) => el("option", { value }, label)));
  const report = el("div", { id: "import-report", role: "status", "aria-live": "polite" });
  const form = el("form", { id: "import-form", class: "import-form" },
    el("label", { for: "import-file" }, "File"), file,
    el("label", { for: "import-format" }, "Format"), format,
    el("button", { type: "submit", class: "small primary" }, "Import"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!file.files.length) return;
    const body = new FormData();
    body.append("file", file.files[0]);
    if (format.value) body.append("format", format.value);
    replaceChildren(report, el("p", { class: "muted" }, "Importing…"));
    try {
      const response = await checked(await authFetch("/api/import", {
        method: "POST", body, headers: { Accept: "application/json" } }));
      replaceChildren(report, ...reportLines(await response.json()));
      onImported();
    } catch (error) {
      replaceChildren(report);
      onError(error);
    }
  });
  return el("section", { "aria-labelledby": "import-heading" },
    el("h3", { id: "import-heading" }, "Import"), form, report);
}

function exportPart(onError) {
  const buttons = EXPORT_FORMATS.map(([fmt, label]) => el("button", {
    type: "button", class: "small", dataset: { export: fmt },
    onclick: async () => {
      try {
        const response = await checked(await authFetch(`/api/export?format=${fmt}`));
        const link = el("a", { href: URL.createObjectURL(await response.blob()),
          download: `taskchat-tasks.${fmt}` });
        document.body.append(link);
        link.click();
        link.remove();
        setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
      } catch (error) {
        onError(error);
      }
    } }, label));
  return el("section", { "aria-labelledby": "export-heading" },
    el("h3", { id: "export-heading" }, "Export everything"),
    el("div", { class: "panel-actions" }, buttons));
}

/** Add the section to `root` (the tasks panel). */
export function mountTransfer(root, { onError, onImported }) {
  const caldav = caldavPart(onError);
  const details = el("details", { id: "transfer", class: "transfer" },
    el("summary", {}, "Calendar, import and export"),
    feedPart(onError), caldav.section, importPart(onError, onImported), exportPart(onError));
  // The app passwords are read when the section is opened, not on every page load.
  details.addEventListener("toggle", () => {
    if (details.open) caldav.load();
  });
  root.append(details);
}
