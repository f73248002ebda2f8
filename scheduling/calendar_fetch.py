"""Reading teachers' outside calendars over HTTP: bounded in time and size, and refusing
addresses inside our own network (the link comes from a user)."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from urllib.parse import urljoin, urlsplit

import aiohttp

from core.external_calendar import LOOK_AHEAD, busy_from_ics, list_due_calendars, store_busy
from core.uow import Database

log = logging.getLogger("alphapeer.calendars")
MAX_BYTES = 2 * 1024 * 1024
TIMEOUT = aiohttp.ClientTimeout(total=20)


class FetchError(Exception):
    """The calendar could not be read; the message is shown to the teacher."""


async def _check_host(url: str) -> None:
    host = urlsplit(url).hostname or ""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None,
                                                             type=socket.SOCK_STREAM)
    except OSError:
        raise FetchError(f"can't find the server {host}") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise FetchError(f"{host} is not a public address")


async def fetch_calendar(url: str, *, allow_private: bool) -> bytes:
    """The calendar's bytes; each redirect hop is checked like the first address."""
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
            for _hop in range(4):
                if not allow_private:
                    await _check_host(url)
                async with http.get(url, allow_redirects=False) as resp:
                    if resp.status in (301, 302, 303, 307, 308) and "Location" in resp.headers:
                        url = urljoin(url, resp.headers["Location"])
                        if urlsplit(url).scheme not in ("http", "https"):
                            raise FetchError("it redirects somewhere that isn't a web address")
                        continue
                    if resp.status != 200:
                        raise FetchError(f"the server answered {resp.status}")
                    body = await resp.content.read(MAX_BYTES + 1)
                    break
            else:
                raise FetchError("it redirects too many times")
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise FetchError(f"couldn't reach it ({type(exc).__name__})") from None
    if len(body) > MAX_BYTES:
        raise FetchError("the calendar is larger than 2 MB")
    return body


async def refresh_external_calendars(db: Database) -> int:
    """Re-read every outside calendar that is due; returns how many were read."""
    async with db.uow() as uow:
        due = await list_due_calendars(uow)
    allow = db.settings.calendars.allow_private_hosts
    done = 0
    for teacher_id, url, zone in due:
        now = db.clock.now()
        try:
            raw = await fetch_calendar(url, allow_private=allow)  # outside any transaction
            intervals = busy_from_ics(raw, now, now + LOOK_AHEAD, zone)
            error = None
        except (FetchError, ValueError) as exc:
            intervals, error = None, str(exc)
            log.info("outside calendar of teacher %s not read: %s", teacher_id, exc)
        async with db.uow() as uow:
            await store_busy(uow, teacher_id, intervals, error)
        done += 1
    return done
