"""Two-way CalDAV: Radicale serves the protocol, with a storage backed by the task tools.

Each of a user's lists is a VTODO collection at `/caldav/<user>/<list_id>/`, each task an
item in it; clients sign in with an app password (`POST /api/app-passwords`). Reads and
writes go through the task server's tools as that user, like the page's, so its rules and
live updates apply to a phone's edits too.
"""
