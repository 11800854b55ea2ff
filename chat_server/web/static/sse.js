// Server-sent events from a fetch() response, for both streams the page reads (/chatkit and
// /api/events). The network cuts the bytes wherever it likes: the TextDecoder, in streaming
// mode, holds back half a UTF-8 character until the rest arrives, and eventsource-parser
// (the WHATWG algorithm) holds back half a line, a `\r` whose `\n` has not come yet, or an
// event whose blank line has not, so each event comes out whole, once.

import { createParser } from "./vendor/eventsource-parser/index.js";

/**
 * A decoder for one event stream: push() its bytes as they come, end() when it closes.
 * Calls onEvent(name, data) for each event, in order: name is "message" when the event
 * has none, data is its JSON parsed. Comments (heartbeats) and id or retry fields alone
 * make no event; an event the stream ends in the middle of is dropped, as the spec says.
 * @param {(name: string, data: any) => void} onEvent
 */
export function eventStreamDecoder(onEvent) {
  const text = new TextDecoder();
  const parser = createParser({
    onEvent: ({ event, data }) => {
      if (data) onEvent(event || "message", JSON.parse(data));
    },
  });
  return {
    /** @param {Uint8Array} bytes  the next chunk, cut anywhere */
    push(bytes) {
      parser.feed(text.decode(bytes, { stream: true }));
    },
    end() {
      parser.feed(text.decode());
    },
  };
}

/** Call onEvent(name, data) for each server-sent event of a fetch response, in order. */
export async function readServerSentEvents(response, onEvent) {
  const events = eventStreamDecoder(onEvent);
  const reader = response.body.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    events.push(value);
  }
  events.end();
}
