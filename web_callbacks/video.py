"""Video routes: our signed join link, the provider's end and recording-ready callbacks,
and private recording links. Provider calls happen between units of work."""

from __future__ import annotations

import logging
from collections.abc import Callable
from html import escape

from aiohttp import web

from core.errors import NotFound
from core.models import Booking, User
from core.recording import record_recording, recording_for
from core.signing import verify_pair
from core.uow import Database
from core.video import JoinRefused, check_end_token, meeting_id_for, plan_join, save_room
from core.video_port import VideoError, VideoProvider
from handlers.links import JOIN, RECORDING
from scheduling.session_jobs import announce_recording, close_reported_end
from web_callbacks.pages import html_page

log = logging.getLogger("alphapeer.video")
RECORDING_READY = "/video/recording-ready"


def _subject(db: Database, purpose: str, token: str) -> tuple[int, int]:
    return verify_pair(db.settings.secrets.secret_key, purpose, token, db.clock.now())


def video_routes(db: Database, video: VideoProvider,
                 after_commit: Callable[[], None] | None = None) -> list[web.RouteDef]:
    def woke() -> None:
        if after_commit is not None:
            after_commit()

    async def join(request: web.Request) -> web.StreamResponse:
        """Participant and window checked, room opened (idempotent), then redirected."""
        try:
            booking_id, user_id = _subject(db, JOIN, request.match_info["token"])
        except NotFound:
            return html_page("Link expired",
                             "<p>This join link is invalid or the session has ended.</p>", 404)
        try:
            async with db.uow() as uow:
                plan = await plan_join(uow, booking_id, user_id)
        except JoinRefused as refused:
            return html_page("Not now", f"<p>{escape(refused.user_message)}</p>",
                             refused.status)
        try:
            room = await video.open_room(plan.spec)
        except VideoError as exc:
            log.warning("room for #%s not opened: %s (%s)", booking_id, exc, exc.key)
            return html_page("Video unavailable", "<p>The video service didn't answer. "
                             "Please try the link again in a minute.</p>", 503)
        async with db.uow() as uow:
            room = await save_room(uow, plan.booking, video.name, room, plan.spec.record)
        raise web.HTTPFound(video.join_url(room, plan.joiner))

    async def ended(request: web.Request) -> web.Response:
        """The provider's (unsigned) end callback: our token, then the provider re-asked."""
        try:
            booking_id = int(request.match_info["booking_id"])
        except ValueError:
            return web.Response(status=404, text="unknown session")
        if not check_end_token(db.settings.secrets.secret_key, booking_id,
                               request.match_info["token"]):
            return web.Response(status=403, text="forged callback")
        async with db.uow() as uow:
            booking = await uow.session.get(Booking, booking_id)
        meeting_id = meeting_id_for(db.settings.secrets.secret_key, booking_id)
        if booking is None:
            return web.Response(status=404, text="unknown session")
        try:
            info = await video.meeting_info(meeting_id)
        except VideoError as exc:
            log.warning("end of #%s not confirmed: %s", booking_id, exc)
            return web.Response(status=503, text="try again")
        if info.running and not info.ended:
            return web.Response(text="still running")  # a forged or early call: nothing done
        if not await close_reported_end(db, booking_id):
            return web.Response(text="noted")
        woke()
        return web.Response(text="closed")

    async def recording_ready(request: web.Request) -> web.Response:
        """Signed (JWT) by the provider; recorded once, reconciled later if not listed yet."""
        form = await request.post()
        try:
            meeting_id, record_id = video.verify_recording_ready(
                str(form.get("signed_parameters", "")))
        except VideoError:
            return web.Response(status=401, text="forged callback")
        try:
            listed = [r for r in await video.recordings([meeting_id])
                      if r.record_id == record_id]
        except VideoError as exc:
            log.warning("recording %s not listed: %s", record_id, exc)
            listed = []
        if not listed:
            return web.Response(status=202, text="will reconcile")
        async with db.uow() as uow:
            new = await record_recording(uow, video.name, listed[0])
            if new is not None:
                await announce_recording(uow, new)
        if new is not None:
            woke()
        return web.Response(text="ok")

    async def watch(request: web.Request) -> web.StreamResponse:
        """A private recording link: still a participant (or the admin), then redirected."""
        try:
            recording_id, user_id = _subject(db, RECORDING, request.match_info["token"])
        except NotFound:
            return html_page("Link expired", "<p>This recording link is invalid or has "
                             "expired. Ask for a new one with /transcripts.</p>", 404)
        async with db.uow() as uow:
            user = await uow.session.get(User, user_id)
            recording = await recording_for(uow, recording_id, user, admin="admin" in (
                user.role_names if user else ())) if user else None
        if recording is None:
            return html_page("Not available", "<p>This recording is not available.</p>", 404)
        raise web.HTTPFound(recording.playback_url)

    async def left(_request: web.Request) -> web.Response:
        return html_page("You left the session", "<p>Thanks — you can close this tab. "
                         "Rate the session in chat when it is over.</p>")

    return [web.get("/join/{token}", join),
            web.get("/video/end/{booking_id}/{token}", ended),
            web.post(RECORDING_READY, recording_ready),
            web.get("/recording/{token}", watch),
            web.get("/video/left", left)]

