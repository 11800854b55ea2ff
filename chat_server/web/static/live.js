// Live updates: reads /api/events (server-sent events) and reconnects after a drop,
// until the server says the user is no longer signed in.
// fetch() rather than EventSource, because EventSource cannot send the user's bearer token.

import { authFetch } from "./client.js";
import { readServerSentEvents } from "./sse.js";

const MAX_WAIT_MS = 15000;

/**
 * Follow the signed-in user's task and chat changes until the page closes.
 * @param {object} handlers
 * @param {() => void} handlers.onReady  the stream is live (again): refetch what is shown
 * @param {(event: {task_id: number, status: string}) => void} handlers.onTask
 * @param {(event: {thread_id: ?string}) => void} handlers.onThread  a chat changed elsewhere
 * @param {(error: Error) => void} handlers.onDrop  the stream broke; it will reconnect
 * @param {() => void} handlers.onSignedOut  401: the token expired or was refused; it stops
 */
export async function followTasks({ onReady, onTask, onThread = () => {}, onDrop, onSignedOut }) {
  let wait = 1000;
  for (;;) {
    try {
      const response = await authFetch("/api/events", { headers: { Accept: "text/event-stream" } });
      if (response.status === 401) {
        onSignedOut();
        return;
      }
      if (!response.ok) throw new Error(`live updates answered ${response.status}`);
      await readServerSentEvents(response, (name, data) => {
        if (name === "ready") {
          wait = 1000;
          onReady();
        } else if (name === "task") {
          onTask(data);
        } else if (name === "thread") {
          onThread(data);
        }
      });
      throw new Error("live updates stopped");
    } catch (error) {
      onDrop(error);
    }
    await new Promise((resolve) => setTimeout(resolve, wait));
    wait = Math.min(wait * 2, MAX_WAIT_MS);
  }
}
