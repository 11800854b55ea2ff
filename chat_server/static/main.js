// Page start-up: take the token, choose the chat UI (official ChatKit when it loads, else
// built-in), say which one is showing, and keep the tasks panel and the task widgets live.

import { BuiltinChat } from "./builtin.js";
import { adoptTokenFromUrl, getJson, getToken, plainMessage, setToken } from "./client.js";
import { el, replaceChildren } from "./dom.js";
import { followTasks } from "./live.js";
import { mountOfficial } from "./official.js";
import { Reminders } from "./reminders.js";
import { TasksPanel } from "./tasks.js";

const config = JSON.parse(document.getElementById("taskchat-config").textContent);
const $ = (id) => document.getElementById(id);
const LIVE_GRACE_MS = 5000;

function showNotice(...content) {
  const notice = $("notice");
  replaceChildren(notice, ...content);
  notice.dataset.transient = "false";
  notice.hidden = false;
}

/** A failure's banner clears itself once a request works again; other notices stay. */
function clearNotice() {
  const notice = $("notice");
  if (notice.hidden || notice.dataset.transient !== "true") return;
  notice.hidden = true;
  replaceChildren(notice);
}

function signInForm() {
  const input = el("input", { id: "token-input", type: "password", autocomplete: "off",
    required: true });
  return el("form", { class: "token-form", onsubmit: (event) => {
    event.preventDefault();
    setToken(input.value.trim());
    location.reload();
  } },
    el("label", { for: "token-input" }, "Token (JWT)"), input,
    el("button", { type: "submit", class: "small primary" }, "Use token"));
}

/** Show a failure once, in plain words, with Retry when it can be retried. */
function reportError(error, retry) {
  if (error && error.status === 401) {
    // Several requests fail at once; keep the first form so typing in it is not lost.
    if (document.getElementById("token-input")) return;
    showNotice(el("p", {}, "Sign-in needed: ", error.message, ". Open this page as ",
      el("code", {}, "/#token=<your JWT>"), ", sign in so the session cookie is set, or paste a token:"),
    signInForm());
    return;
  }
  const message = plainMessage(error);
  const shown = $("notice").querySelector(".notice-text");
  if (!$("notice").hidden && shown && shown.textContent === message) return;
  showNotice(el("span", { class: "notice-text" }, message),
    retry ? el("button", { type: "button", class: "small", onclick: () => { clearNotice(); retry(); } },
      "Retry") : null);
  $("notice").dataset.transient = "true";
}

function setUiLabel(ui, text, reason) {
  document.body.dataset.ui = ui;
  $("ui-label").textContent = text;
  if (reason) $("ui-label").title = reason;
}

/** On a phone, chats and tasks are full-height sheets over the conversation. */
function wireSheets() {
  const sheets = {};
  for (const [buttonId, panelId] of [["toggle-threads", "threads"], ["toggle-tasks", "tasks"]]) {
    const button = $(buttonId);
    const set = (open) => {
      $(panelId).classList.toggle("open", open);
      button.setAttribute("aria-expanded", String(open));
      if (open) $(panelId).querySelector("button, input")?.focus();
    };
    sheets[panelId] = set;
    button.addEventListener("click", () => set(!$(panelId).classList.contains("open")));
  }
  for (const close of document.querySelectorAll("[data-closes]")) {
    close.addEventListener("click", () => {
      sheets[close.dataset.closes](false);
      $(`toggle-${close.dataset.closes}`).focus();
    });
  }
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    for (const [id, set] of Object.entries(sheets)) if ($(id).classList.contains("open")) set(false);
  });
  return sheets;
}

async function showUser() {
  try {
    const me = await getJson("/api/me");
    $("user-label").textContent = me.auth === "local" ? "Local mode" : `Signed in as ${me.user_id}`;
    document.body.dataset.user = me.user_id;
  } catch (error) {
    reportError(error, () => location.reload());
  }
  if (getToken()) {
    const signOut = $("sign-out");
    signOut.hidden = false;
    signOut.addEventListener("click", () => { setToken(null); location.reload(); });
  }
}

function goLive(tasks) {
  let dropTimer = null;
  followTasks({
    onReady: () => {
      clearTimeout(dropTimer);
      dropTimer = null;
      document.body.dataset.live = "true";
      tasks.refresh();
    },
    onTask: () => tasks.refresh(),
    onDrop: () => {
      document.body.dataset.live = "false";
      // A restart takes a moment; only a longer gap is worth a word.
      dropTimer ??= setTimeout(() => reportError(new Error(
        "Live updates paused: reconnecting to taskchat…")), LIVE_GRACE_MS);
    },
  });
}

async function start() {
  adoptTokenFromUrl();
  const sheets = wireSheets();
  let chat = null;
  const reminders = new Reminders($("reminders"), $("allow-notifications"));
  const tasks = new TasksPanel({ root: $("tasks"), toast: $("toast"), onError: reportError,
    onOk: clearNotice,
    onTasks: (list, complete, startedAt) => {
      reminders.schedule(list);
      chat?.syncTasks(list, complete, startedAt);
    } });
  const onChange = () => tasks.refresh();
  await showUser();
  tasks.refresh();
  goLive(tasks);

  const main = $("chat");
  if (config.ui !== "builtin") {
    try {
      await mountOfficial({ config, main, onChange, onError: reportError });
      setUiLabel("chatkit", "Official ChatKit UI");
      $("toggle-threads").hidden = true;
      document.querySelector(".skip-link").setAttribute("href", "#chat");
      document.body.dataset.ready = "true";
      return;
    } catch (error) {
      if (config.ui === "chatkit") {
        setUiLabel("none", "ChatKit unavailable", error.message);
        main.replaceChildren();
        showNotice(el("p", {}, "The official ChatKit component could not be loaded. ",
          el("a", { href: "/?ui=builtin" }, "Use the built-in chat instead"), "."));
        return;
      }
      setUiLabel("builtin", "Built-in chat", `The official ChatKit component could not be loaded: ${
        error.message}`);
    }
  } else {
    setUiLabel("builtin", "Built-in chat UI");
  }
  chat = new BuiltinChat({ apiUrl: config.apiUrl, nav: $("threads"), main, onChange,
    onError: reportError, onNavigate: () => sheets.threads(false) });
  await chat.start();
  tasks.refresh(); // now that widgets are shown, bring them up to date
  document.body.dataset.ready = "true";
}

start().catch((error) => reportError(error, () => location.reload()));
