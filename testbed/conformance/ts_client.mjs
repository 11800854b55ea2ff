// The TypeScript SDK client (@modelcontextprotocol/client, v2) against the task server:
// every tool it lists (the tools of shared lists, restore_task and list_deleted_tasks
// where the server has them), including the batch tools, plus a resource read, a
// completion and (at 2026-07-28) a change subscription. Prints one JSON object of what it saw.
//
//   node ts_client.mjs URL TOKEN (legacy | 2026-07-28)
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";

const [url, token, revision] = process.argv.slice(2);
const mode = revision === "legacy" ? "legacy" : { pin: revision };
const client = new Client(
  { name: "taskchat-ts-check", version: "1" },
  { versionNegotiation: { mode } },
);
const transport = new StreamableHTTPClientTransport(new URL(url), {
  requestInit: { headers: { Authorization: `Bearer ${token}` } },
});
await client.connect(transport);

const seen = { revision: client.getNegotiatedProtocolVersion(), calls: {}, errors: {} };
async function call(name, args) {
  const result = await client.callTool({ name, arguments: args });
  if (result.isError) throw new Error(`${name}: ${result.content[0].text}`);
  seen.calls[name] = result.structuredContent;
  return result.structuredContent;
}
async function refused(name, args) {
  const result = await client.callTool({ name, arguments: args });
  seen.errors[name] = { isError: result.isError, code: result._meta?.["taskchat/error"]?.code };
}

seen.tools = (await client.listTools()).tools.map((tool) => tool.name).sort();
const added = await call("add_task", { title: "ts rent", tags: ["home"], list: "TS" });
const id = added.task_id;
await call("get_task", { task_id: id });
await call("list_tasks", { status: "all", limit: 10 });
await call("update_task", { task_id: id, priority: "high" });
await call("complete_task", { task_id: id });
const batch = await call("add_tasks", { items: [{ title: "ts a" }, { title: "ts b" }] });
const ids = batch.results.map((item) => item.task.id);
await call("update_tasks", { items: ids.map((task_id) => ({ task_id, priority: "low" })) });
await call("complete_tasks", { task_ids: [...ids, 2147483000] });
await call("delete_tasks", { task_ids: ids });
await call("list_lists", {});
await call("rename_list", { list: "TS", new_name: "TS2" });
if (seen.tools.includes("share_list")) {
  await call("share_list", { list: "TS2", user_id: "ts-friend", role: "viewer" });
  await call("list_members", { list: "TS2" });
  await call("unshare_list", { list: "TS2", user_id: "ts-friend" });
}
await call("delete_task", { task_id: id });
if (seen.tools.includes("restore_task")) {
  await call("list_deleted_tasks", {});
  await call("restore_task", { task_id: id });
  await call("delete_task", { task_id: id });
}
await call("delete_list", { list: "TS2" });
await refused("get_task", { task_id: id });

const again = await call("add_task", { title: "ts watched", tags: ["home"] });
const read = await client.readResource({ uri: `task://${again.task_id}` });
seen.resource = JSON.parse(read.contents[0].text).title;
const completion = await client.complete({
  ref: { type: "ref/prompt", name: "weekly_review" },
  argument: { name: "tag", value: "h" },
});
seen.completion = completion.completion.values;

if (client.getProtocolEra() === "modern") {
  const updated = new Promise((resolve) => {
    client.setNotificationHandler("notifications/resources/updated", (note) =>
      resolve(note.params.uri));
  });
  const subscription = await client.listen({ resourceSubscriptions: [`task://${again.task_id}`] });
  await call("complete_task", { task_id: again.task_id });
  seen.updated = await updated;
  await subscription.close();
}
await client.close();
console.log(JSON.stringify(seen));
