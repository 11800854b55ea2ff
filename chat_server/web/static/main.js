// Page start-up: take the token, ask whether the page is signed in (JWT mode shows only the
// sign-in until it is), choose the chat UI (official ChatKit when it loads, else built-in),
// say which one is showing, and keep the tasks panel and the task widgets live.

import { BuiltinChat } from "./builtin.js";
import { adoptTokenFromUrl, getJson, getToken, plainMessage, sendJson, setToken } from "./client.js";
import { el, replaceChildren } from "./dom.js";
import { wireShortcuts } from "./keys.js";
import { followTasks } from "./live.js";
import { mountOfficial } from "./official.js";
import { Reminders } from "./reminders.js";
import { TasksPanel } from "./tasks.js";
import { mountTransfer } from "./transfer.js";

const config = JSON.parse(document.getElementById("taskchat-config").textContent);
const $ = (id) => document.getElementById(id);
const LIVE_GRACE_MS = 5000;
const SIGNED_OUT_KEY = "taskchat:signed-out";
const UI_CHOICE_KEY = "taskchat:ui";
// Longer than setTimeout can wait; a session that long is re-checked by its requests' 401s.
const MAX_TIMER_MS = 2 ** 31 - 1;
let signedOut = false;

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

function tokenForm() {
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

/** The reason the sign-in shows, in one line. */
function signInReason(session) {
  if (sessionStorage.getItem(SIGNED_OUT_KEY)) {
    sessionStorage.removeItem(SIGNED_OUT_KEY);
    if (session.reason === "missing") return "You have signed out.";
  }
  return session.message || "Sign in to see your tasks.";
}

/** JWT mode without a valid token: the sign-in alone, no chats, tasks or error banners. */
function showSignIn(session) {
  if (signedOut) return;
  signedOut = true;
  if (getToken() && session.reason !== "missing") setToken(null); // a pasted token that failed
  const notice = $("notice");
  notice.hidden = true;
  replaceChildren(notice);
  document.body.dataset.auth = "signed-out";
  setUiLabel("signin", "Signed out");
  $("user-label").textContent = "";
  $("signin-reason").textContent = signInReason(session);
  const options = [];
  if (config.signIn) {
    const back = encodeURIComponent(location.pathname + location.search);
    options.push(el("a", { id: "signin-button", class: "button",
      href: `${config.signIn.url}?next=${back}` }, `Sign in with ${config.signIn.provider}`));
    options.push(el("details", {}, el("summary", {}, "Use a token instead"),
      el("p", { class: "muted" }, "Paste a token from ", el("code", {}, "taskchat token"), ":"),
      tokenForm()));
  } else {
    options.push(el("p", { class: "muted" }, "Paste the token (JWT) your operator gave you, ",
      "e.g. from ", el("code", {}, "taskchat token"), "."), tokenForm());
  }
  replaceChildren($("signin-options"), ...options);
  $("signin").hidden = false;
  document.body.dataset.ready = "signin";
  ($("signin-button") || $("token-input")).focus();
}

/** A request said 401: ask why, and show the sign-in unless the session is fine after all. */
async function recheckSession() {
  if (signedOut) return;
  let session;
  try {
    session = await getJson("/auth/session");
  } catch (error) {
    reportError(error, () => location.reload());
    return;
  }
  if (!session.signed_in) showSignIn(session);
}

/** Show a failure once, in plain words, with Retry when it can be retried. */
function reportError(error, retry) {
  if (signedOut) return;
  if (error && error.status === 401) {
    recheckSession();
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

/** Which chat the page shows; the label is for what is not the usual chat (no text: hidden). */
function setUiLabel(ui, text, reason) {
  document.body.dataset.ui = ui;
  $("ui-label").textContent = text;
  $("ui-label").hidden = !text;
  if (reason) $("ui-label").title = reason;
}

/** In "auto" mode, a top-bar button that switches to the other chat UI (remembered). */
function offerSwitch(toOfficial) {
  $("ui-label").after(el("button", { type: "button", class: "small link", id: "switch-ui",
    onclick: () => {
      if (toOfficial) localStorage.setItem(UI_CHOICE_KEY, "chatkit");
      else localStorage.removeItem(UI_CHOICE_KEY);
      location.reload();
    } }, toOfficial ? "Use the official ChatKit UI" : "Use the standard chat"));
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

function showUser(session) {
  $("user-label").textContent = session.via === "local" ? "Local mode"
    : `Signed in as ${session.user_id}`;
  document.body.dataset.user = session.user_id;
  document.body.dataset.auth = session.via;
  if (session.via === "local") return;
  const signOut = $("sign-out");
  signOut.hidden = false;
  signOut.addEventListener("click", async () => {
    setToken(null);
    try {
      await sendJson("/auth/logout");
    } catch (error) {
      reportError(error);
      return;
    }
    sessionStorage.setItem(SIGNED_OUT_KEY, "1");
    location.reload();
  });
  if (session.expires_at) {
    // When the token runs out, say so at once rather than at the next failed request.
    const left = session.expires_at * 1000 - Date.now();
    if (left < MAX_TIMER_MS) setTimeout(recheckSession, Math.max(left, 0) + 1000);
  }
}

function goLive(tasks, chat) {
  let dropTimer = null;
  followTasks({
    onReady: () => {
      clearTimeout(dropTimer);
      dropTimer = null;
      document.body.dataset.live = "true";
      tasks.refresh();
      chat.current?.heard(null);
    },
    onTask: (event) => tasks.heard(event),
    onThread: (event) => chat.current?.heard(event.thread_id),
    onSignedOut: recheckSession,
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
  // Asked first, and never a 401: a signed-out page shows the sign-in before anything fails.
  const session = await getJson("/auth/session");
  if (!session.signed_in) {
    showSignIn(session);
    return;
  }
  showUser(session);
  const sheets = wireSheets();
  let chat = null;
  let lastTasks = null; // the panel's latest list, for a chat that starts after it came
  const liveChat = { get current() { return chat; } };
  const reminders = new Reminders($("reminders"), $("allow-notifications"));
  const tasks = new TasksPanel({ root: $("tasks"), toast: $("toast"), onError: reportError,
    onOk: clearNotice,
    onTasks: (list, complete, startedAt) => {
      lastTasks = [list, complete, startedAt];
      reminders.schedule(list);
      chat?.syncTasks(list, complete, startedAt);
    } });
  wireShortcuts(tasks, () => {
    if (getComputedStyle($("tasks")).display === "none") sheets.tasks(true);
  });
  mountTransfer($("tasks"), { onError: reportError, onImported: () => tasks.refresh() });
  const onChange = () => tasks.refresh();
  tasks.refresh();
  goLive(tasks, liveChat);

  const main = $("chat");
  // "auto" loads OpenAI's component only for someone who chose it (the link in the top
  // bar): nobody else's page asks the CDN for anything, and an offline machine logs no error.
  const official = config.ui === "chatkit"
    || (config.ui === "auto" && localStorage.getItem(UI_CHOICE_KEY) === "chatkit");
  if (official) {
    try {
      await mountOfficial({ config, main, onChange, onError: reportError });
      setUiLabel("chatkit", "Official ChatKit UI");
      if (config.ui === "auto") offerSwitch(false);
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
      setUiLabel("builtin", "ChatKit unavailable", `The official ChatKit component could not be loaded: ${
        error.message}`);
    }
  } else {
    setUiLabel("builtin", "");
  }
  if (config.ui === "auto") offerSwitch(!official);
  chat = new BuiltinChat({ apiUrl: config.apiUrl, nav: $("threads"), main, onChange,
    onError: reportError, onNavigate: () => sheets.threads(false) });
  await chat.start();
  // Where live updates cannot reach (another worker process), a tab coming back into view
  // catches up with what changed meanwhile.
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") chat.heard(null);
  });
  // Now that widgets are shown, bring them up to date (a list still on its way does so itself).
  if (lastTasks) chat.syncTasks(...lastTasks);
  document.body.dataset.ready = "true";
}

start().catch((error) => reportError(error, () => location.reload()));
