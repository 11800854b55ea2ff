"""Tasks in and out of taskchat: iCalendar feeds and exports, imports from other apps."""
