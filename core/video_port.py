"""What core needs from a video provider (BigBlueButton, Jitsi), in neutral terms.

Adapters live in ``video/``; tests talk to a stand-in server over real HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

MODERATOR = "moderator"
VIEWER = "viewer"


class VideoError(Exception):
    """The provider refused or could not be reached; ``key`` is its messageKey if any."""

    def __init__(self, message: str, *, key: str = "", retryable: bool = False) -> None:
        super().__init__(message)
        self.key = key
        self.retryable = retryable


@dataclass(frozen=True)
class RoomSpec:
    """Everything needed to open (or re-open, idempotently) one session's room."""

    meeting_id: str          # hard to guess, stable per booking
    name: str
    record: bool
    duration_minutes: int    # the provider ends the meeting after this long (0: no limit)
    max_participants: int
    logout_url: str
    end_callback_url: str    # carries our own HMAC token; the provider calls it unsigned
    recording_ready_url: str
    meta: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Room:
    meeting_id: str
    create_time: int         # the provider's creation timestamp (ms); join links carry it


@dataclass(frozen=True)
class Joiner:
    user_id: int
    full_name: str
    role: str                # MODERATOR (teacher) or VIEWER (student)


@dataclass(frozen=True)
class Attendee:
    user_id: int | None      # our user id (the join link's userID); None for unknown guests
    full_name: str
    role: str


@dataclass(frozen=True)
class MeetingInfo:
    running: bool
    attendees: tuple[Attendee, ...]
    create_time: int
    ended: bool = False      # the provider says the meeting has ended (or it is gone)


@dataclass(frozen=True)
class RecordingInfo:
    record_id: str
    meeting_id: str
    published: bool
    playback_url: str        # where people watch it (reached only through our signed link)
    media_url: str           # the audio/video file the transcription job downloads
    minutes: int = 0


class VideoProvider(Protocol):
    name: str
    records: bool            # can record (and report recordings)
    tracks_attendance: bool  # can tell who was in the room and for how long

    async def open_room(self, spec: RoomSpec) -> Room: ...

    def join_url(self, room: Room, joiner: Joiner) -> str: ...

    async def meeting_info(self, meeting_id: str) -> MeetingInfo: ...

    async def recordings(self, meeting_ids: list[str]) -> list[RecordingInfo]: ...

    def verify_recording_ready(self, signed_parameters: str) -> tuple[str, str]:
        """(meeting_id, record_id) from the signed callback; raises VideoError if forged."""
        ...

    async def download(self, url: str) -> bytes: ...

    async def close(self) -> None: ...
