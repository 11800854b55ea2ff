// The page a reminder's link opens (/reminder#<token>): it says what the link does and
// does it only when asked, since mail scanners open links but press no buttons.

const question = document.getElementById("question");
const confirm = document.getElementById("confirm");
const token = decodeURIComponent(location.hash.slice(1));

function readToken(text) {
  // Only to say what the link does: the server checks the signature.
  try {
    const body = text.split(".")[0].replace(/-/g, "+").replace(/_/g, "/");
    const [, taskId, action] = JSON.parse(atob(body));
    return { taskId, action };
  } catch {
    return null;
  }
}

const link = readToken(token);
if (!link || !["complete", "snooze"].includes(link.action)) {
  question.textContent = "This is not a reminder link.";
} else {
  question.textContent = link.action === "complete"
    ? `Mark task #${link.taskId} done?` : `Remind you of task #${link.taskId} in 15 minutes?`;
  confirm.textContent = link.action === "complete" ? "Mark done" : "Snooze 15 minutes";
  confirm.hidden = false;
  confirm.addEventListener("click", async () => {
    confirm.disabled = true;
    const answer = await fetch("/api/reminders/act", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token }),
      credentials: "omit",
    });
    const said = await answer.json().catch(() => ({}));
    confirm.hidden = true;
    question.textContent = answer.ok
      ? (link.action === "complete" ? `Done: “${said.task.title}”.`
        : `Snoozed: “${said.task.title}” reminds you again in 15 minutes.`)
      : (said.message || said.detail || `That did not work (${answer.status}).`);
  });
}
