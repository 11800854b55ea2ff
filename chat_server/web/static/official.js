// OpenAI's ChatKit web component, loaded from its CDN (it has no offline build). When the
// script cannot load in time, mountOfficial() rejects and the page falls back to built-in.

import { authFetch } from "./client.js";
import { el } from "./dom.js";

const LOAD_TIMEOUT_MS = 4000;

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = el("script", { src, async: true });
    script.addEventListener("load", resolve);
    script.addEventListener("error", () => reject(new Error(`could not load ${src}`)));
    document.head.append(script);
  });
}

/** Load the component and show it in `main`; resolves to the element, or rejects. */
export async function mountOfficial({ config, main, onChange, onError }) {
  await withTimeout(
    loadScript(config.chatkitScript).then(() => customElements.whenDefined("openai-chatkit")),
    LOAD_TIMEOUT_MS,
    "Loading the ChatKit component",
  );
  const chatkit = el("openai-chatkit", { class: "official" });
  main.replaceChildren(chatkit);
  chatkit.setOptions({
    api: {
      url: new URL(config.apiUrl, location.href).toString(),
      domainKey: config.domainKey,
      fetch: (url, init) => authFetch(url, init),
    },
    // The page follows the system's light or dark setting; so does the component.
    theme: { colorScheme: matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light" },
    history: { enabled: true, showDelete: true, showRename: true },
    startScreen: {
      greeting: "What needs doing?",
      prompts: [
        { label: "Add a task", prompt: "add buy milk tomorrow" },
        { label: "Due this week", prompt: "what's due this week?" },
        { label: "All my tasks", prompt: "show my tasks" },
      ],
    },
    composer: { placeholder: "Ask me to add, list, change or complete tasks…" },
  });
  // Turns and widget actions both end a response; thread switches may follow an action.
  chatkit.addEventListener("chatkit.response.end", onChange);
  chatkit.addEventListener("chatkit.thread.change", onChange);
  chatkit.addEventListener("chatkit.error", (event) => onError(event.detail?.error || new Error("ChatKit error")));
  return chatkit;
}
