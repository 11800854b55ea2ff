// The page's link to the backend: the user's token, authenticated fetch, and the ChatKit
// protocol (JSON requests and server-sent event streams) spoken to /chatkit.

import { readServerSentEvents } from "./sse.js";

const TOKEN_KEY = "taskchat:token";

/** Move a `#token=...` from the URL into sessionStorage, so it never sits in history. */
export function adoptTokenFromUrl() {
  const params = new URLSearchParams(location.hash.slice(1));
  const token = params.get("token");
  if (token) {
    sessionStorage.setItem(TOKEN_KEY, token);
    params.delete("token");
    const rest = params.toString();
    history.replaceState(null, "", location.pathname + location.search + (rest ? `#${rest}` : ""));
  }
}

export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** fetch() with the user's token as a Bearer header; without one, the session cookie goes. */
/** The browser's IANA time zone ("Europe/Paris"): "tomorrow" is then the user's tomorrow. */
function browserZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch {
    return "";
  }
}

export function authFetch(url, init = {}) {
  const headers = new Headers(init.headers || {});
  const token = getToken();
  if (token) headers.set("Authorization", `Bearer ${token}`);
  const zone = browserZone();
  if (zone) headers.set("X-Timezone", zone);
  return fetch(url, { ...init, headers, credentials: "same-origin" });
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function failure(response) {
  let code = "http_error";
  let message = `The server answered ${response.status} ${response.statusText}.`;
  try {
    const body = await response.json();
    if (body && body.message) {
      message = body.message;
      code = body.error || code;
    }
  } catch {
    // Not JSON: keep the status line.
  }
  if (response.status === 429) {
    const wait = response.headers.get("Retry-After");
    message = `Too many requests; try again${wait ? ` in ${wait} s` : " shortly"}.`;
  }
  return new ApiError(response.status, code, message);
}

/** GET a JSON endpoint of ours, e.g. /api/tasks. */
export async function getJson(url) {
  const response = await authFetch(url, { headers: { Accept: "application/json" } });
  if (!response.ok) throw await failure(response);
  return response.json();
}

/** POST (or DELETE) JSON to an endpoint of ours and read its JSON answer. */
export async function sendJson(url, body = {}, method = "POST") {
  const response = await authFetch(url, {
    method,
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw await failure(response);
  return response.json();
}

/** The error in plain words for the page: no addresses, no exception names. */
export function plainMessage(error) {
  if (error instanceof TypeError) return "Can't reach taskchat right now. Is it still running?";
  if (error && error.status === 503) {
    return "The task server isn't answering right now, so nothing was changed.";
  }
  const text = (error && error.message) || String(error);
  return text.replace(/\s*\(?\bhttps?:\/\/[^\s)]+\)?/g, "").replace(/\s*\(\w+(Error|Exception)\)/g, "");
}

export class ChatKitClient {
  constructor(url) {
    this.url = url;
  }

  async #post(body) {
    const response = await authFetch(this.url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw await failure(response);
    return response;
  }

  /** A non-streaming request (threads.list, items.list, threads.update, threads.delete). */
  async request(type, params) {
    const response = await this.#post({ type, params });
    return response.json();
  }

  /** A streaming request; calls onEvent(event) for each server-sent event, in order. */
  async stream(type, params, onEvent) {
    const response = await this.#post({ type, params });
    await readServerSentEvents(response, (_name, data) => onEvent(data));
  }
}

/** The ChatKit input for a plain text message. */
export function textInput(text) {
  return { content: [{ type: "input_text", text }], attachments: [], inference_options: {} };
}
