"""A small async BigBlueButton API client implementing core.video_port.VideoProvider."""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET
from urllib.parse import quote, urlencode, urlsplit

import aiohttp
import jwt
import yarl

from core.video_port import (
    MODERATOR,
    VIEWER,
    Attendee,
    Joiner,
    MeetingInfo,
    RecordingInfo,
    Room,
    RoomSpec,
    VideoError,
)

_DIGITS = re.compile(r"[0-9]+")
_CHUNK = 64 * 1024


class BBBProvider:
    """BigBlueButton over its checksum-signed HTTP API."""

    name = "bbb"
    records = True
    tracks_attendance = True

    def __init__(self, base_url: str, secret: str, *, timeout: float = 10.0,
                 max_download_bytes: int = 500 * 1024 * 1024) -> None:
        root = base_url.rstrip("/")
        if root.endswith("/api"):
            root = root[: -len("/api")]
        self._api = root + "/api/"
        parts = urlsplit(root)
        self._origin = f"{parts.scheme}://{parts.netloc}"
        self._secret = secret
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        # Recordings are large: bound stalls, not the whole transfer.
        self._download_timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=timeout, sock_read=timeout)
        self._max_download = max_download_bytes
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        # Created lazily: a ClientSession must be born inside the running loop.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    def _signed_url(self, call: str, params: dict[str, str]) -> str:
        query = urlencode(params, quote_via=quote, safe="")
        checksum = hashlib.sha256((call + query + self._secret).encode()).hexdigest()
        return f"{self._api}{call}?{query}{'&' if query else ''}checksum={checksum}"

    async def _call(self, call: str, params: dict[str, str]) -> ET.Element:
        # encoded=True: the server hashes the raw query string, so send the bytes we signed.
        url = yarl.URL(self._signed_url(call, params), encoded=True)
        try:
            async with self._client().get(url) as resp:
                status, body = resp.status, await resp.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise VideoError(f"bigbluebutton {call}: unreachable ({type(exc).__name__})",
                             retryable=True) from exc
        if status != 200:
            raise VideoError(f"bigbluebutton {call}: HTTP {status}",
                             retryable=status >= 500 or status == 429)
        try:
            # Python's expat refuses entity-expansion bombs, so a hostile body cannot blow up.
            root = ET.fromstring(body)
        except ET.ParseError as exc:
            raise VideoError(f"bigbluebutton {call}: invalid XML", retryable=True) from exc
        code = root.findtext("returncode")
        key = root.findtext("messageKey") or ""
        if code == "FAILED":
            raise VideoError(root.findtext("message") or f"bigbluebutton {call} failed", key=key)
        if code != "SUCCESS":
            raise VideoError(f"bigbluebutton {call}: no returncode", retryable=True)
        return root

    async def open_room(self, spec: RoomSpec) -> Room:
        record = _flag(spec.record)
        params = {f"meta_{k}": v for k, v in spec.meta.items()}
        # Set after spec.meta so no meta entry can redirect our callbacks.
        params.update({
            "name": spec.name, "meetingID": spec.meeting_id, "record": record,
            "autoStartRecording": record, "allowStartStopRecording": "false",
            "duration": str(spec.duration_minutes), "maxParticipants": str(spec.max_participants),
            "logoutURL": spec.logout_url, "meta_endCallbackUrl": spec.end_callback_url,
            "meta_bbb-recording-ready-url": spec.recording_ready_url,
        })
        # A repeat answers SUCCESS + duplicateWarning with the original createTime: idempotent.
        root = await self._call("create", params)
        create_time = _int(root.findtext("createTime"))
        if not create_time:
            raise VideoError("bigbluebutton create: no createTime", retryable=True)
        return Room(spec.meeting_id, create_time)

    def join_url(self, room: Room, joiner: Joiner) -> str:
        # Anything but an explicit moderator joins with the least privilege.
        role = "MODERATOR" if joiner.role == MODERATOR else "VIEWER"
        return self._signed_url("join", {
            "fullName": joiner.full_name, "meetingID": room.meeting_id, "role": role,
            "userID": str(joiner.user_id), "createTime": str(room.create_time),
            "redirect": "true",
        })

    async def meeting_info(self, meeting_id: str) -> MeetingInfo:
        try:
            root = await self._call("getMeetingInfo", {"meetingID": meeting_id})
        except VideoError as exc:
            # BBB forgets a meeting soon after it ends.
            if exc.key == "notFound":
                return MeetingInfo(running=False, attendees=(), create_time=0, ended=True)
            raise
        attendees = tuple(
            Attendee(user_id=_user_id(a.findtext("userID")),
                     full_name=a.findtext("fullName") or "",
                     role=MODERATOR if (a.findtext("role") or "").lower() == MODERATOR
                     else VIEWER)
            for a in root.iterfind("attendees/attendee"))
        ended = (root.findtext("hasBeenForciblyEnded") == "true"
                 or _int(root.findtext("endTime")) != 0)
        return MeetingInfo(running=root.findtext("running") == "true", attendees=attendees,
                           create_time=_int(root.findtext("createTime")), ended=ended)

    async def recordings(self, meeting_ids: list[str]) -> list[RecordingInfo]:
        if not meeting_ids:
            return []
        try:
            root = await self._call("getRecordings", {"meetingID": ",".join(meeting_ids)})
        except VideoError as exc:
            if exc.key == "noRecordings":
                return []
            raise
        found = []
        for rec in root.iterfind("recordings/recording"):
            record_id = rec.findtext("recordID") or ""
            if not record_id:
                continue
            formats = [(f.findtext("type") or "", f.findtext("url") or "",
                        _int(f.findtext("length"))) for f in rec.iterfind("playback/format")]
            chosen = next((f for f in formats if f[0] == "presentation"),
                          formats[0] if formats else ("", "", 0))
            found.append(RecordingInfo(
                record_id=record_id, meeting_id=rec.findtext("meetingID") or "",
                published=rec.findtext("published") == "true", playback_url=chosen[1],
                media_url=self.media_url(record_id), minutes=chosen[2]))
        return found

    def media_url(self, record_id: str) -> str:
        """Where BBB publishes a recording's webcam/audio track."""
        return f"{self._origin}/presentation/{quote(record_id, safe='')}/video/webcams.webm"

    def verify_recording_ready(self, signed_parameters: str) -> tuple[str, str]:
        try:
            # algorithms pinned: "none" and key-confusion tokens are refused.
            payload = jwt.decode(signed_parameters, self._secret, algorithms=["HS256"])
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise VideoError("forged or damaged recording callback",
                             key="invalidSignature") from exc
        meeting_id, record_id = payload.get("meeting_id"), payload.get("record_id")
        if not (isinstance(meeting_id, str) and isinstance(record_id, str)
                and meeting_id and record_id):
            raise VideoError("forged or damaged recording callback", key="invalidSignature")
        return meeting_id, record_id

    async def download(self, url: str) -> bytes:
        if urlsplit(url).scheme not in ("http", "https"):
            raise VideoError("recording download: not an http(s) URL")
        try:
            async with self._client().get(url, timeout=self._download_timeout) as resp:
                if resp.status != 200:
                    raise VideoError(f"recording download: HTTP {resp.status}",
                                     retryable=resp.status >= 500)
                too_big = VideoError(f"recording larger than {self._max_download} bytes")
                if (resp.content_length or 0) > self._max_download:
                    raise too_big
                data = bytearray()
                async for chunk in resp.content.iter_chunked(_CHUNK):
                    data += chunk
                    # Checked while streaming: Content-Length may be absent or lie.
                    if len(data) > self._max_download:
                        raise too_big
                return bytes(data)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise VideoError(f"recording download: unreachable ({type(exc).__name__})",
                             retryable=True) from exc

    async def end_meeting(self, meeting_id: str) -> None:
        """End a meeting now; a meeting already gone counts as ended."""
        try:
            await self._call("end", {"meetingID": meeting_id})
        except VideoError as exc:
            if exc.key != "notFound":
                raise

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _int(text: str | None) -> int:
    return int(text) if text and _DIGITS.fullmatch(text.strip()) else 0


def _user_id(text: str | None) -> int | None:
    # Guests who came in without our link carry BBB's own ids ("w_abc123"): not our users.
    return int(text) if text and _DIGITS.fullmatch(text) else None
