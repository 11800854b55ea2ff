// Page start-up: take the token, choose the chat UI (official ChatKit when it loads, else
// built-in), say which one is showing, and keep the tasks panel in step with the chat.

import { BuiltinChat } from "./builtin.js";
import { adoptTokenFromUrl, getJson, getToken, setToken } from "./client.js";
import { el, replaceChildren } from "./dom.js";
import { mountOfficial } from "./official.js";
import { TasksPanel } from "./tasks.js";

const config = JSON.parse(document.getElementById("taskchat-config").textContent);
const $ = (id) => document.getElementById(id);

function showNotice(...content) {
  const notice = $("notice");
  replaceChildren(notice, ...content);
  notice.hidden = false;
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

function reportError(error) {
  if (error && error.status === 401) {
    // Several requests fail at once; keep the first form so typing in it is not lost.
    if (document.getElementById("token-input")) return;
    showNotice(el("p", {}, "Sign-in needed: ", error.message, ". Open this page as ",
      el("code", {}, "/#token=<your JWT>"), ", sign in so the session cookie is set, or paste a token:"),
    signInForm());
    return;
  }
  showNotice(el("p", {}, (error && error.message) || String(error)));
}

function setUiLabel(ui, text) {
  document.body.dataset.ui = ui;
  $("ui-label").textContent = text;
}

function wireToggles() {
  for (const [buttonId, panelId] of [["toggle-threads", "threads"], ["toggle-tasks", "tasks"]]) {
    const button = $(buttonId);
    button.addEventListener("click", () => {
      const open = !$(panelId).classList.contains("open");
      $(panelId).classList.toggle("open", open);
      button.setAttribute("aria-expanded", String(open));
    });
  }
}

async function showUser() {
  try {
    const me = await getJson("/api/me");
    $("user-label").textContent = me.auth === "local" ? "Local mode" : `Signed in as ${me.user_id}`;
    document.body.dataset.user = me.user_id;
  } catch (error) {
    reportError(error);
  }
  if (getToken()) {
    const signOut = $("sign-out");
    signOut.hidden = false;
    signOut.addEventListener("click", () => { setToken(null); location.reload(); });
  }
}

async function start() {
  adoptTokenFromUrl();
  wireToggles();
  const tasks = new TasksPanel({ list: $("task-list"), summary: $("tasks-summary"),
    refreshButton: $("refresh-tasks"), onError: reportError });
  const onChange = () => tasks.refresh();
  await showUser();
  tasks.refresh();

  const main = $("chat");
  if (config.ui !== "builtin") {
    try {
      await mountOfficial({ config, main, onChange, onError: reportError });
      setUiLabel("chatkit", "Official ChatKit UI");
      document.body.dataset.ready = "true";
      return;
    } catch (error) {
      if (config.ui === "chatkit") {
        setUiLabel("none", "Official ChatKit UI unavailable");
        showNotice(el("p", {}, `The official ChatKit component could not be loaded (${error.message}). `,
          el("a", { href: "/?ui=builtin" }, "Use the built-in chat UI instead"), "."));
        return;
      }
      setUiLabel("builtin", "Built-in chat UI (the official ChatKit component could not be loaded)");
    }
  } else {
    setUiLabel("builtin", "Built-in chat UI");
  }
  const chat = new BuiltinChat({ apiUrl: config.apiUrl, nav: $("threads"), main, onChange,
    onError: reportError });
  await chat.start();
  document.body.dataset.ready = "true";
}

start().catch(reportError);
