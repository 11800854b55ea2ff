// taskchat's service worker: shows pushed reminders as system notifications (with Done and
// Snooze buttons) while no tab is open, and keeps an offline shell of the app.
//
// A push carries {title, body, tag, task_id, tokens: {complete, snooze}, late}: the tokens
// are signed links the server checks (POST /api/reminders/act), so the buttons work
// without the page and without a session.

const SHELL = "taskchat-shell-v1";
const ACT_URL = "/api/reminders/act";

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.add("/")).catch(() => undefined));
  self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name !== SHELL) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

// The page and its scripts and styles: from the network when it answers (and kept), from
// the cache when it does not. The API and the chat are never cached: they are the user's.
function isShell(url) {
  return url.origin === self.location.origin &&
    (url.pathname === "/" || url.pathname.startsWith("/assets/") ||
     url.pathname.startsWith("/static/") || url.pathname === "/manifest.webmanifest");
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || !isShell(url)) return;
  event.respondWith((async () => {
    const cache = await caches.open(SHELL);
    try {
      const answer = await fetch(request);
      if (answer.ok) await cache.put(url.pathname === "/" ? "/" : request, answer.clone());
      return answer;
    } catch (error) {
      const kept = await cache.match(url.pathname === "/" ? "/" : request, { ignoreSearch: true });
      if (kept) return kept;
      throw error;
    }
  })());
});

function notificationFor(data) {
  const actions = [];
  if (data.tokens?.complete) actions.push({ action: "complete", title: "Done" });
  if (data.tokens?.snooze) actions.push({ action: "snooze", title: "Snooze 15 min" });
  return {
    body: data.body || "",
    tag: data.tag || undefined,
    icon: "/static/icon-192.png",
    badge: "/static/icon-192.png",
    requireInteraction: data.type === "reminder",
    data: { taskId: data.task_id ?? null, tokens: data.tokens || {} },
    actions,
  };
}

self.addEventListener("push", (event) => {
  let data;
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = { title: "taskchat", body: event.data?.text() || "" };
  }
  event.waitUntil(self.registration.showNotification(data.title || "taskchat reminder",
                                                     notificationFor(data)));
});

async function act(token) {
  const answer = await fetch(ACT_URL, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ token }),
    credentials: "omit",
  });
  if (!answer.ok) throw new Error(`the server answered ${answer.status}`);
}

async function openApp() {
  const open = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  if (open.length) return open[0].focus();
  return self.clients.openWindow("/");
}

self.addEventListener("notificationclick", (event) => {
  const notification = event.notification;
  const token = notification.data?.tokens?.[event.action];
  notification.close();
  event.waitUntil(token
    ? act(token).catch(() => self.registration.showNotification("taskchat", {
        body: "That did not work; open taskchat to change the task.",
        tag: `${notification.tag}-failed`,
      }))
    : openApp());
});
