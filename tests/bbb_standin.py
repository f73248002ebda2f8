"""A stand-in BigBlueButton server on loopback: the real client talks to it over HTTP.

It keeps BBB's rules that matter to us: checksums over the raw query string (SHA-1/256/384/512),
idempotent ``create`` (``duplicateWarning``, same createTime), ``join`` refusing unknown
meetings, stale ``createTime`` and full rooms, meetings forgotten once ended (``notFound``), and
after the end an unsigned end callback plus a JWT-signed recording-ready callback.

Test-only controls (not BBB API): ``join_directly``, ``leave``, ``finish`` (ends a meeting and
delivers the callbacks), ``fail_next`` (the next API calls answer an HTTP error), ``settle``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from urllib.parse import quote

import jwt
from aiohttp import ClientError, ClientSession, ClientTimeout, web

_HASHES = {40: hashlib.sha1, 64: hashlib.sha256, 96: hashlib.sha384, 128: hashlib.sha512}


def sign_recording_callback(secret: str, meeting_id: str, record_id: str) -> str:
    """The ``signed_parameters`` BBB posts when a recording is ready."""
    return jwt.encode({"meeting_id": meeting_id, "record_id": record_id}, secret,
                      algorithm="HS256")


@dataclass
class Meeting:
    meeting_id: str
    name: str
    create_time: int
    record: bool
    max_participants: int
    params: dict[str, str]
    attendees: dict[str, tuple[str, str]] = field(default_factory=dict)  # userID → (name, ROLE)
    running: bool = False
    ended: bool = False


@dataclass
class Recording:
    record_id: str
    meeting_id: str
    name: str
    media: bytes
    start_time: int
    end_time: int
    published: bool = True


class BBBStandin:
    """BigBlueButton's API, a client page, playback pages and recording media."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.meetings: dict[str, Meeting] = {}
        self.recordings: dict[str, Recording] = {}
        self.calls: list[tuple[str, dict[str, str]]] = []  # every API call received
        self.callback_statuses: list[tuple[str, int]] = []  # ("end"|"recording_ready", status)
        self.failures: list[int] = []
        self.base_url = ""
        self._runner: web.AppRunner | None = None
        self._http: ClientSession | None = None
        self._tasks: set[asyncio.Task[str | None]] = set()
        self._last_ms = 0

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/bigbluebutton/"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/bigbluebutton/api/{call}", self._api)
        app.router.add_get("/client/{meeting_id}", self._client_page)
        app.router.add_get("/playback/presentation/2.3/{record_id}", self._playback_page)
        app.router.add_get("/presentation/{record_id}/video/webcams.webm", self._media)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        self._http = ClientSession(timeout=ClientTimeout(total=10))

    async def stop(self) -> None:
        await self.settle()
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- test controls ---------------------------------------------------------------------

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        self.failures.extend([status] * n)

    async def join_directly(self, meeting_id: str, user_id: str | int, name: str,
                            role: str = "VIEWER") -> None:
        """Someone enters without our link (no checksum, no participant limit)."""
        meeting = self.meetings[meeting_id]
        meeting.attendees[str(user_id)] = (name, role.upper())
        meeting.running = True

    async def leave(self, meeting_id: str, user_id: str | int) -> None:
        meeting = self.meetings[meeting_id]
        meeting.attendees.pop(str(user_id), None)
        meeting.running = bool(meeting.attendees)

    async def finish(self, meeting_id: str, *, record: bool | None = None,
                     media: bytes = b"...fake audio...") -> str | None:
        """End the meeting, call its end callback, then publish and announce a recording.

        ``record`` None follows the meeting's own ``record`` flag. Returns the recordID.
        """
        meeting = self.meetings[meeting_id]
        self._end(meeting)
        return await self._after_end(meeting, meeting.record if record is None else record,
                                     media)

    async def settle(self) -> None:
        """Wait for callbacks started by the ``end`` API call."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- meeting lifecycle -------------------------------------------------------------------

    def _now_ms(self) -> int:
        # Strictly increasing, so a re-created meeting never reuses a createTime.
        self._last_ms = max(int(time.time() * 1000), self._last_ms + 1)
        return self._last_ms

    def _end(self, meeting: Meeting) -> None:
        meeting.ended, meeting.running = True, False
        meeting.attendees.clear()

    async def _after_end(self, meeting: Meeting, record: bool, media: bytes) -> str | None:
        end_url = meeting.params.get("meta_endCallbackUrl")
        if end_url:
            marks = f"recordingmarks={'true' if record else 'false'}"
            url = end_url + ("&" if "?" in end_url else "?") + marks
            await self._deliver("end", "GET", url)
        if not record:
            return None
        internal = hashlib.sha1(meeting.meeting_id.encode()).hexdigest()
        rec = Recording(f"{internal}-{meeting.create_time}", meeting.meeting_id, meeting.name,
                        media, meeting.create_time, self._now_ms())
        self.recordings[rec.record_id] = rec
        ready_url = meeting.params.get("meta_bbb-recording-ready-url")
        if ready_url:
            token = sign_recording_callback(self.secret, meeting.meeting_id, rec.record_id)
            await self._deliver("recording_ready", "POST", ready_url,
                                {"signed_parameters": token})
        return rec.record_id

    async def _deliver(self, kind: str, method: str, url: str,
                       form: dict[str, str] | None = None) -> None:
        assert self._http is not None, "start() first"
        try:
            async with self._http.request(method, url, data=form) as resp:
                self.callback_statuses.append((kind, resp.status))
        except (ClientError, TimeoutError):
            # Like BBB: a callback that cannot be delivered is dropped, not retried.
            self.callback_statuses.append((kind, 0))

    # -- HTTP ------------------------------------------------------------------------------

    def _checksum_ok(self, call: str, raw: str) -> bool:
        head, sep, checksum = raw.rpartition("checksum=")
        if not sep or (head and not head.endswith("&")):
            return False
        digest = _HASHES.get(len(checksum))
        if digest is None:
            return False
        expected = digest((call + head[:-1] + self.secret).encode()).hexdigest()
        return hmac.compare_digest(expected, checksum.lower())

    async def _api(self, request: web.Request) -> web.StreamResponse:
        call = request.match_info["call"]
        params = dict(request.rel_url.query)
        params.pop("checksum", None)
        self.calls.append((call, params))
        if self.failures:
            return web.Response(status=self.failures.pop(0), text="injected failure")
        if not self._checksum_ok(call, request.rel_url.raw_query_string):
            return _failed("checksumError", "You did not pass the checksum security check")
        handler = {"create": self._create, "join": self._join,
                   "getMeetingInfo": self._meeting_info, "isMeetingRunning": self._is_running,
                   "end": self._end_call, "getRecordings": self._get_recordings}.get(call)
        if handler is None:
            return _failed("unsupportedRequest", "This request is not supported.")
        if call != "getRecordings" and not params.get("meetingID"):
            return _failed("missingParamMeetingID", "You must specify a meeting ID.")
        return handler(params)

    def _live(self, meeting_id: str) -> Meeting | None:
        meeting = self.meetings.get(meeting_id)
        return meeting if meeting is not None and not meeting.ended else None

    def _create(self, p: dict[str, str]) -> web.StreamResponse:
        meeting = self._live(p["meetingID"])
        key, message = "duplicateWarning", "This conference was already in existence."
        if meeting is None:
            meeting = Meeting(p["meetingID"], p.get("name", ""), self._now_ms(),
                              p.get("record") == "true", int(p.get("maxParticipants") or 0), p)
            self.meetings[meeting.meeting_id] = meeting
            key = message = ""
        return _ok(meetingID=meeting.meeting_id, createTime=str(meeting.create_time),
                   hasUserJoined="false", hasBeenForciblyEnded="false", messageKey=key,
                   message=message)

    def _join(self, p: dict[str, str]) -> web.StreamResponse:
        meeting = self._live(p["meetingID"])
        if meeting is None:
            return _failed("notFound", "We could not find a meeting with that meeting ID.")
        if p.get("createTime") and p["createTime"] != str(meeting.create_time):
            return _failed("mismatchCreateTimeParam", "The createTime does not match.")
        role = p.get("role", "").upper()
        if role not in ("MODERATOR", "VIEWER") or not p.get("fullName"):
            return _failed("invalidParameters", "fullName and role are required.")
        user_id = p.get("userID") or f"w_{len(meeting.attendees) + 1}"
        others = [u for u in meeting.attendees if u != user_id]
        if meeting.max_participants and len(others) >= meeting.max_participants:
            return _failed("maxParticipantsReached", "The number of participants is reached.")
        meeting.attendees[user_id] = (p["fullName"], role)
        meeting.running = True
        client = f"{self.base_url}/client/{quote(meeting.meeting_id, safe='')}"
        if p.get("redirect", "true") == "true":
            raise web.HTTPFound(client)
        return _ok(meetingID=meeting.meeting_id, userID=user_id, url=client)

    def _meeting_info(self, p: dict[str, str]) -> web.StreamResponse:
        meeting = self._live(p["meetingID"])
        if meeting is None:
            return _failed("notFound", "We could not find a meeting with that meeting ID.")
        attendees = ET.Element("attendees")
        for user_id, (name, role) in meeting.attendees.items():
            _children(ET.SubElement(attendees, "attendee"), userID=user_id, fullName=name,
                      role=role, isPresenter="false")
        moderators = sum(role == "MODERATOR" for _, role in meeting.attendees.values())
        return _ok(attendees, meetingName=meeting.name, meetingID=meeting.meeting_id,
                   createTime=str(meeting.create_time), running=_flag(meeting.running),
                   hasUserJoined=_flag(bool(meeting.attendees)),
                   recording=_flag(meeting.record), hasBeenForciblyEnded="false",
                   startTime=str(meeting.create_time), endTime="0",
                   participantCount=str(len(meeting.attendees)),
                   moderatorCount=str(moderators))

    def _is_running(self, p: dict[str, str]) -> web.StreamResponse:
        meeting = self._live(p["meetingID"])
        return _ok(running=_flag(meeting is not None and meeting.running))

    def _end_call(self, p: dict[str, str]) -> web.StreamResponse:
        meeting = self._live(p["meetingID"])
        if meeting is None:
            return _failed("notFound", "We could not find a meeting with that meeting ID.")
        self._end(meeting)
        # Real BBB calls back after answering; settle() waits for it.
        task = asyncio.create_task(self._after_end(meeting, meeting.record, b"...fake audio..."))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return _ok(messageKey="sentEndMeetingRequest", message="A request to end was sent.")

    def _get_recordings(self, p: dict[str, str]) -> web.StreamResponse:
        meeting_ids = set(filter(None, p.get("meetingID", "").split(",")))
        record_ids = set(filter(None, p.get("recordID", "").split(",")))
        recordings = ET.Element("recordings")
        for rec in self.recordings.values():
            if (meeting_ids and rec.meeting_id not in meeting_ids) or (
                    record_ids and rec.record_id not in record_ids):
                continue
            node = ET.SubElement(recordings, "recording")
            _children(node, recordID=rec.record_id, meetingID=rec.meeting_id, name=rec.name,
                      published=_flag(rec.published), state="published",
                      startTime=str(rec.start_time), endTime=str(rec.end_time))
            minutes = max(1, (rec.end_time - rec.start_time) // 60_000)
            playback = f"{self.base_url}/playback/presentation/2.3/{rec.record_id}"
            fmt = ET.SubElement(ET.SubElement(node, "playback"), "format")
            _children(fmt, type="presentation", url=playback, length=str(minutes))
        if not len(recordings):
            return _ok(recordings, messageKey="noRecordings",
                       message="There are no recordings for the meeting(s).")
        return _ok(recordings)

    async def _client_page(self, request: web.Request) -> web.StreamResponse:
        return web.Response(text="<html><body>BigBlueButton client</body></html>",
                            content_type="text/html")

    async def _playback_page(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["record_id"] not in self.recordings:
            raise web.HTTPNotFound()
        return web.Response(text="<html><body>Playback</body></html>", content_type="text/html")

    async def _media(self, request: web.Request) -> web.StreamResponse:
        rec = self.recordings.get(request.match_info["record_id"])
        if rec is None:
            raise web.HTTPNotFound()
        return web.Response(body=rec.media, content_type="video/webm")


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _children(parent: ET.Element, **fields: str) -> None:
    for tag, text in fields.items():
        ET.SubElement(parent, tag).text = text


def _ok(*nodes: ET.Element, **fields: str) -> web.Response:
    return _xml("SUCCESS", nodes, fields)


def _failed(key: str, message: str) -> web.Response:
    return _xml("FAILED", (), {"messageKey": key, "message": message})


def _xml(code: str, nodes: tuple[ET.Element, ...], fields: dict[str, str]) -> web.Response:
    root = ET.Element("response")
    _children(root, returncode=code, **fields)
    root.extend(nodes)
    return web.Response(body=ET.tostring(root, encoding="utf-8"), content_type="text/xml")
