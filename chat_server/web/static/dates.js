// Due dates the way todo apps show them, in the browser's time zone: "Today", "Tomorrow",
// "Fri", "Dec 15", with local times, all in the browser's language (the day words from
// Intl.RelativeTimeFormat, beside weekday names from the same locale). A date-only due ("2025-03-10") is that calendar day
// wherever the user is; a date-time due is an instant.

const DAY_MS = 24 * 60 * 60 * 1000;

// Parsed dues by their text: the panel sorts and groups 10,000 tasks on every change, and
// parsing each due again in every comparison was most of that time. Read-only results.
const PARSED = new Map();
const PARSED_MAX = 50_000;

/** { at: Date, allDay: boolean } for a due string, or null (the same object each time). */
export function parseDue(due) {
  if (!due) return null;
  let parsed = PARSED.get(due);
  if (parsed) return parsed;
  if (!due.includes("T")) {
    const [y, m, d] = due.split("-").map(Number);
    parsed = { at: new Date(y, m - 1, d), allDay: true };
  } else {
    parsed = { at: new Date(due), allDay: false };
  }
  if (PARSED.size >= PARSED_MAX) PARSED.clear();
  PARSED.set(due, parsed);
  return parsed;
}

function startOfDay(date) {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate());
}

/** Whole calendar days from `now`'s day to `date`'s day (negative in the past). */
export function daysFrom(date, now) {
  return Math.round((startOfDay(date) - startOfDay(now)) / DAY_MS);
}

const RELATIVE = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

/** "Today", "Tomorrow", "Yesterday" in the browser's language, capitalised as a label. */
export function relativeDay(days) {
  const word = RELATIVE.format(days, "day");
  return word.charAt(0).toLocaleUpperCase() + word.slice(1);
}

/** A day heading for the Upcoming view: "Tomorrow", "Wed, Dec 9". */
export function dayHeading(date, now = new Date()) {
  const days = daysFrom(date, now);
  if (Math.abs(days) <= 1) return relativeDay(days);
  return date.toLocaleDateString(undefined, { weekday: "short", month: "short", day: "numeric" });
}

/** Midnight `days` days after `now`'s day. */
export function dayAfter(now, days) {
  return new Date(now.getFullYear(), now.getMonth(), now.getDate() + days);
}

function dayWord(date, now) {
  const days = daysFrom(date, now);
  if (Math.abs(days) <= 1) return relativeDay(days);
  if (days > 1 && days < 7) return date.toLocaleDateString(undefined, { weekday: "short" });
  const options = { month: "short", day: "numeric" };
  if (date.getFullYear() !== now.getFullYear()) options.year = "numeric";
  return date.toLocaleDateString(undefined, options);
}

/** "Today", "Tomorrow 14:30", "Fri", "Dec 15", "Dec 15, 2027"; "" without a due. */
export function dueText(due, now = new Date()) {
  const parsed = parseDue(due);
  if (!parsed) return "";
  const day = dayWord(parsed.at, now);
  if (parsed.allDay) return day;
  const time = parsed.at.toLocaleTimeString(undefined, { hour: "numeric", minute: "2-digit" });
  return `${day} ${time}`;
}

/** True when the task is open and its due day (or moment) has passed. */
export function isOverdue(task, now = new Date()) {
  const parsed = parseDue(task.due);
  if (!parsed || task.completed) return false;
  return parsed.allDay ? daysFrom(parsed.at, now) < 0 : parsed.at < now;
}

/** Which panel group a task belongs in. */
export function groupOf(task, now = new Date()) {
  if (task.completed) return "done";
  const parsed = parseDue(task.due);
  if (!parsed) return "nodate";
  if (isOverdue(task, now)) return "overdue";
  return daysFrom(parsed.at, now) === 0 ? "today" : "upcoming";
}

/** The due string for a quick add: "2025-03-10", or a local date and time as UTC ISO. */
export function dueFromInputs(date, time, now = new Date()) {
  if (!date && !time) return null;
  const day = date || `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, "0")}-${
    String(now.getDate()).padStart(2, "0")}`;
  if (!time) return day;
  const [y, m, d] = day.split("-").map(Number);
  const [hh, mm] = time.split(":").map(Number);
  return new Date(y, m - 1, d, hh, mm).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** The date and time inputs' values ("2025-03-10", "14:30") for a due string. */
export function inputsFromDue(due) {
  const parsed = parseDue(due);
  if (!parsed) return { date: "", time: "" };
  const at = parsed.at;
  const pad = (n) => String(n).padStart(2, "0");
  const date = `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}`;
  return { date, time: parsed.allDay ? "" : `${pad(at.getHours())}:${pad(at.getMinutes())}` };
}

const FREQ_UNIT = { DAILY: "day", WEEKLY: "week", MONTHLY: "month", YEARLY: "year" };
const WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];
const ORDINAL = { 1: "first", 2: "second", 3: "third", 4: "fourth", "-1": "last" };

/** "Mon" for "MO", in the browser's language (Jan 5, 2026 was a Monday). */
function weekdayName(code) {
  const date = new Date(2026, 0, 5 + WEEKDAYS.indexOf(code));
  return date.toLocaleDateString(undefined, { weekday: "short" });
}

/**
 * A repeat rule (RFC 5545, without "RRULE:") in a few words, for quick add's chip before
 * the task server words it: "Every weekday", "Every 2 weeks on Tue, Thu", "Every month
 * on the last Fri". A rule it cannot word is shown as it is.
 */
export function ruleWords(rule) {
  const parts = Object.fromEntries(rule.split(";").map((part) => part.split("=")));
  const unit = FREQ_UNIT[parts.FREQ];
  if (!unit) return rule;
  const every = Number(parts.INTERVAL || 1);
  const days = parts.BYDAY ? parts.BYDAY.split(",") : [];
  let text = every > 1 ? `Every ${every} ${unit}s` : `Every ${unit}`;
  if (unit === "week" && every === 1 && days.join(",") === "MO,TU,WE,TH,FR") {
    text = "Every weekday";
  } else if (days.length) {
    const named = days.map((day) => {
      const [, nth, code] = day.match(/^([+-]?\d*)([A-Z]{2})$/) || [];
      const n = nth || parts.BYSETPOS;
      return n ? `the ${ORDINAL[Number(n)] || n} ${weekdayName(code)}` : weekdayName(code);
    });
    text += ` on ${named.join(", ")}`;
  } else if (parts.BYMONTHDAY) {
    text += ` on day ${parts.BYMONTHDAY}`;
  }
  if (parts.COUNT) text += `, ${parts.COUNT} times`;
  return text;
}

/** A reminder ({before: "PT30M"} or {at: "<date-time>"}) in words: "30 min before". */
export function reminderWords(reminder, now = new Date()) {
  if (reminder.at) return dueText(reminder.at, now);
  const [, days, hours, minutes] = (reminder.before || "")
    .match(/^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$/) || [];
  const said = [[days, "d"], [hours, "h"], [minutes, "min"]]
    .filter(([n]) => Number(n)).map(([n, unit]) => `${Number(n)} ${unit}`);
  return said.length ? `${said.join(" ")} before` : "At the due time";
}
