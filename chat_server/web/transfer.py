"""Import and export: `POST /api/import` (a multipart upload: the one write that is not JSON,
still refused cross-site by the edge) and `GET /api/export?format=json|csv|ics`.

Both act through the task tools as the signed-in user, like the panel, so the task server
checks every imported value and each added task shows up live on the user's open pages.
"""

import logging
from datetime import UTC, datetime
from typing import Annotated, Any, cast

import anyio
from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response

from chat_server.agent.zones import HEADER, local_zone, zone_from_header
from chat_server.features import IMPORT_PATH
from chat_server.transfer import tables
from chat_server.transfer.exporter import MEDIA_TYPES, ExportFormat, as_csv, as_ics, as_json
from chat_server.transfer.formats import Context, Format, FormatError, as_zone, detect, read
from chat_server.transfer.importer import run_import
from chat_server.web.calendar import UID_DOMAIN, all_tasks, in_database
from chat_server.web.deps import ChatServerDep, PanelUser, SettingsDep
from chat_server.web.panel import call_tool
from chat_server.web.protocol import RequestError
from shared.auth import Principal
from shared.contract import LIST_LISTS, ListPage

log = logging.getLogger(__name__)

router = APIRouter()

FILENAME_MAX_CHARS = 255


class ChatDatabaseKeys:
    """The user's import keys in the chat database."""

    def __init__(self, request: Request, user: Principal) -> None:
        self.request = request
        self.user = user

    async def known(self, keys: Any) -> dict[str, int]:
        """The keys imported before, each with its task."""
        found = await in_database(
            self.request, tables.known_keys, user_id=self.user.user_id, keys=list(keys)
        )
        return cast(dict[str, int], found)

    async def remember(self, items: dict[str, int]) -> None:
        """Record keys and their new tasks."""
        if items:
            await in_database(
                self.request, tables.remember, user_id=self.user.user_id, items=items,
                now=datetime.now(UTC),
            )  # fmt: skip


@router.post(IMPORT_PATH)
async def import_tasks(
    *,
    request: Request,
    user: PanelUser,
    server: ChatServerDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="the file to import")],
    format: Annotated[Format | None, Form()] = None,  # noqa: A002 - the API's field name
    completed: Annotated[bool, Form(description="import done tasks too")] = True,
) -> dict[str, Any]:
    """Import a Todoist, TickTick, taskchat or plain CSV/JSON file; the report of what was
    added, what was there already, and every item not imported with why."""
    data = await file.read()
    filename = (file.filename or "")[:FILENAME_MAX_CHARS]
    fmt: Format = format or detect(filename, data)
    zone = zone_from_header(request.headers.get(HEADER)) or local_zone(settings.taskchat_timezone)
    context = Context(filename, as_zone(zone), datetime.now(zone).date())
    try:
        # Reading 5 MB of CSV takes a while: off the event loop.
        reading = await anyio.to_thread.run_sync(read, data, fmt, context)
    except FormatError as exc:
        raise RequestError(400, "unreadable_file", f"not a {fmt} file: {exc}") from None

    async def call(tool: str, arguments: dict[str, Any]) -> Any:
        return await call_tool(server, tool, arguments, user.user_id)

    report = await run_import(
        reading, fmt=fmt, call=call, keys=ChatDatabaseKeys(request, user), completed=completed
    )
    log.info(
        "import (%s): %d added, %d there already, %d not imported",
        fmt, report.imported, report.already_imported, report.not_imported,
    )  # fmt: skip
    return report.as_json()


@router.get("/api/export")
async def export_tasks(
    user: PanelUser,
    server: ChatServerDep,
    format: ExportFormat = "json",  # noqa: A002
) -> Response:
    """Every task of the user (done ones and subtasks too) as JSON, CSV or iCalendar."""
    tasks = await all_tasks(server, user, "all")
    match format:
        case "json":
            lists = cast(ListPage, await call_tool(server, LIST_LISTS, {}, user.user_id))["lists"]
            body = as_json(tasks, lists, datetime.now(UTC))
        case "csv":
            body = as_csv(tasks)
        case "ics":
            body = as_ics(tasks, UID_DOMAIN)
    disposition = f'attachment; filename="taskchat-tasks.{format}"'
    return Response(
        body, media_type=MEDIA_TYPES[format], headers={"Content-Disposition": disposition}
    )
