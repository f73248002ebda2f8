"""Files sent in session threads, for recipients on another platform: our signed link, the
participant re-checked, then the file fetched from the platform that holds it (Telegram's
getFile, streamed through) or a redirect to its address (Discord attachments)."""

from __future__ import annotations

import logging
from urllib.parse import quote

import aiohttp
from aiohttp import web

from core.errors import NotFound
from core.session_thread import MAX_FILE_BYTES, file_for
from core.signing import verify_pair
from core.uow import Database
from handlers.links import FILE
from web_callbacks.pages import html_page

log = logging.getLogger("alphapeer.files")
TIMEOUT = aiohttp.ClientTimeout(total=60, connect=10)


class FetchFailed(Exception):
    pass


def telegram_file_base(api_base: str) -> str:
    """``https://api.telegram.org/bot`` → ``https://api.telegram.org/file/bot`` (also for a
    self-hosted Bot API server)."""
    root = api_base.removesuffix("bot").rstrip("/")
    return f"{root}/file/bot"


async def _stream_telegram(request: web.Request, db: Database, file_id: str,
                           name: str) -> web.StreamResponse:
    """getFile, then the download streamed through (at most the Bot API's 20 MB)."""
    token = db.settings.secrets.telegram_token
    api = db.settings.telegram.base_url
    response: web.StreamResponse | None = None
    try:
        if not token:
            raise FetchFailed("no Telegram token configured")
        async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
            async with http.post(f"{api}{token}/getFile", data={"file_id": file_id}) as answer:
                info = await answer.json(content_type=None)
            path = (info.get("result") or {}).get("file_path") if info.get("ok") else None
            if not path:
                raise FetchFailed(str(info.get("description", "getFile failed")))
            async with http.get(f"{telegram_file_base(api)}{token}/{path}") as upstream:
                if upstream.status != 200:
                    raise FetchFailed(f"download answered {upstream.status}")
                if (upstream.content_length or 0) > MAX_FILE_BYTES:
                    raise FetchFailed("file over the size limit")
                response = web.StreamResponse(headers={
                    "Content-Type": upstream.content_type or "application/octet-stream",
                    "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
                    "Cache-Control": "private, no-store",
                })
                await response.prepare(request)
                sent = 0
                async for chunk in upstream.content.iter_chunked(64 * 1024):
                    sent += len(chunk)
                    if sent > MAX_FILE_BYTES:
                        raise FetchFailed("file over the size limit")
                    await response.write(chunk)
                await response.write_eof()
                return response
    except (FetchFailed, aiohttp.ClientError, TimeoutError, ValueError) as exc:
        log.warning("file %s not fetched from Telegram: %s", file_id, exc)
        if response is not None and response.prepared:
            raise  # headers already went out: the download is cut short
        return html_page("File unavailable", "<p>Telegram didn't hand the file over. Try "
                         "again in a moment.</p>", 502)


def file_routes(db: Database) -> list[web.RouteDef]:
    async def download(request: web.Request) -> web.StreamResponse:
        try:
            message_id, user_id = verify_pair(db.settings.secrets.secret_key, FILE,
                                              request.match_info["token"], db.clock.now())
        except NotFound:
            return html_page("Link expired", "<p>This file link is invalid or has expired. "
                             "Ask the sender to share it again.</p>", 404)
        async with db.uow() as uow:
            message = await file_for(uow, message_id, user_id)
        if message is None or message.file_ref is None:
            return html_page("Not available", "<p>This file is not available.</p>", 404)
        if message.file_ref.startswith("https://"):
            raise web.HTTPFound(message.file_ref)
        if message.platform != "telegram":
            return html_page("Not available", "<p>This file is not available.</p>", 404)
        return await _stream_telegram(request, db, message.file_ref,
                                      message.file_name or "file")

    return [web.get("/file/{token}", download)]
