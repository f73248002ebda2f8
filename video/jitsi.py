"""Jitsi Meet as a video provider: links only, no recordings and no attendance."""

from __future__ import annotations

import json
from urllib.parse import quote

from core.video_port import Joiner, MeetingInfo, RecordingInfo, Room, RoomSpec, VideoError


class JitsiProvider:
    """Rooms on a Jitsi server; the unguessable meeting id is the only access control."""

    name = "jitsi"
    records = False
    tracks_attendance = False

    def __init__(self, server_url: str, secret: str) -> None:
        self._server = server_url.rstrip("/")
        # Kept for servers that require JWT room tokens; public servers ignore it.
        self._secret = secret

    async def open_room(self, spec: RoomSpec) -> Room:
        # Jitsi creates a room when the first person arrives: nothing to call.
        return Room(spec.meeting_id, 0)

    def join_url(self, room: Room, joiner: Joiner) -> str:
        # Jitsi URL-decodes then JSON-parses hash values: escape for JSON first, so a quote or
        # backslash in a name cannot break out of the string.
        name = quote(json.dumps(joiner.full_name, ensure_ascii=False)[1:-1], safe="")
        return f'{self._server}/{quote(room.meeting_id, safe="")}#userInfo.displayName="{name}"'

    async def meeting_info(self, meeting_id: str) -> MeetingInfo:
        raise VideoError("jitsi does not report attendance")

    async def recordings(self, meeting_ids: list[str]) -> list[RecordingInfo]:
        return []

    def verify_recording_ready(self, signed_parameters: str) -> tuple[str, str]:
        raise VideoError("jitsi sends no recording callbacks", key="invalidSignature")

    async def download(self, url: str) -> bytes:
        raise VideoError("jitsi has no recordings to download")

    async def close(self) -> None:
        return None
