"""The BigBlueButton client against a stand-in BBB server over real HTTP, and the Jitsi links."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace

import aiohttp
import jwt
import pytest
import yarl
from aiohttp import web

from core.video_port import (
    MODERATOR,
    VIEWER,
    Attendee,
    Joiner,
    Room,
    RoomSpec,
    VideoError,
)
from tests.bbb_standin import BBBStandin, sign_recording_callback
from video.bbb import BBBProvider
from video.jitsi import JitsiProvider

SECRET = "bbb-shared-secret-" + "x" * 30
AWKWARD = "Maths & Physik = Spaß 100% +ü ?#/ 'Ölçü' (2)"


@dataclass
class Receiver:
    """Our side of BBB's callbacks: records what arrives."""

    url: str = ""
    ends: list[dict[str, str]] = field(default_factory=list)
    ready: list[dict[str, str]] = field(default_factory=list)


@pytest.fixture
async def bbb() -> AsyncIterator[BBBStandin]:
    standin = BBBStandin(SECRET)
    await standin.start()
    yield standin
    await standin.stop()


@pytest.fixture
async def provider(bbb: BBBStandin) -> AsyncIterator[BBBProvider]:
    client = BBBProvider(bbb.api_url, SECRET)
    yield client
    await client.close()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    received = Receiver()

    async def end(request: web.Request) -> web.Response:
        received.ends.append(dict(request.query))
        return web.Response(text="ok")

    async def ready(request: web.Request) -> web.Response:
        received.ready.append({k: str(v) for k, v in (await request.post()).items()})
        return web.Response(status=202)

    app = web.Application()
    app.router.add_get("/bbb/end", end)
    app.router.add_post("/bbb/ready", ready)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    received.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield received
    await runner.cleanup()


def _spec(meeting_id: str = "m-7f3a9c", *, record: bool = True, base: str = "http://x",
          **extra: object) -> RoomSpec:
    spec = RoomSpec(meeting_id=meeting_id, name="Python with Maya", record=record,
                    duration_minutes=60, max_participants=2, logout_url="http://x/bye",
                    end_callback_url=f"{base}/bbb/end?token=t0k%3D",
                    recording_ready_url=f"{base}/bbb/ready", meta={"booking": "42"})
    return replace(spec, **extra)  # type: ignore[arg-type]


async def _follow(url: str) -> aiohttp.ClientResponse:
    # As a browser does: the link's bytes go out unchanged (aiohttp would re-encode a str).
    async with aiohttp.ClientSession() as http, http.get(
            yarl.URL(url, encoded=True), allow_redirects=True) as resp:
        await resp.read()
        return resp


async def test_provider_creates_room_twice_same_create_time(
        bbb: BBBStandin, provider: BBBProvider) -> None:
    first = await provider.open_room(_spec())
    again = await provider.open_room(_spec())
    assert again == first and first.create_time > 1_600_000_000_000
    assert [c for c, _ in bbb.calls] == ["create", "create"]
    params = bbb.calls[0][1]
    assert params["record"] == params["autoStartRecording"] == "true"
    assert params["allowStartStopRecording"] == "false" and params["meta_booking"] == "42"
    assert params["meta_endCallbackUrl"] == "http://x/bbb/end?token=t0k%3D"


async def test_joiner_follows_join_url_appears_in_meeting(
        bbb: BBBStandin, provider: BBBProvider) -> None:
    room = await provider.open_room(_spec())
    resp = await _follow(provider.join_url(room, Joiner(7, "Maya Tan", MODERATOR)))
    assert resp.status == 200 and resp.url.path == "/client/m-7f3a9c"
    assert bbb.calls[-1][1]["role"] == "MODERATOR"
    info = await provider.meeting_info(room.meeting_id)
    assert info.running and not info.ended and info.create_time == room.create_time
    assert info.attendees == (Attendee(7, "Maya Tan", MODERATOR),)


async def test_provider_with_wrong_secret_gets_checksum_error(bbb: BBBStandin) -> None:
    client = BBBProvider(bbb.api_url + "api", "not-the-secret")
    with pytest.raises(VideoError) as caught:
        await client.open_room(_spec())
    await client.close()
    assert caught.value.key == "checksumError" and not caught.value.retryable


async def test_provider_signs_awkward_names_checksum_verifies(
        bbb: BBBStandin, provider: BBBProvider) -> None:
    room = await provider.open_room(_spec(f"m {AWKWARD}", name=AWKWARD, meta={AWKWARD: AWKWARD}))
    assert bbb.calls[-1][1]["name"] == AWKWARD and bbb.calls[-1][1][f"meta_{AWKWARD}"] == AWKWARD
    resp = await _follow(provider.join_url(room, Joiner(8, AWKWARD, VIEWER)))
    assert resp.url.path.startswith("/client/"), await resp.text()
    info = await provider.meeting_info(room.meeting_id)
    assert info.attendees == (Attendee(8, AWKWARD, VIEWER),)


async def test_provider_asks_unknown_meeting_gets_ended(provider: BBBProvider) -> None:
    info = await provider.meeting_info("never-created")
    assert info.ended and not info.running and info.attendees == ()


async def test_joiner_with_stale_link_is_refused(bbb: BBBStandin, provider: BBBProvider) -> None:
    room = await provider.open_room(_spec(record=False))
    stale = provider.join_url(room, Joiner(9, "Sam", VIEWER))
    await bbb.finish(room.meeting_id)
    reopened = await provider.open_room(_spec(record=False))
    assert reopened.create_time > room.create_time
    resp = await _follow(stale)
    assert "mismatchCreateTimeParam" in await resp.text()


async def test_third_joiner_of_two_seat_room_is_refused(
        bbb: BBBStandin, provider: BBBProvider) -> None:
    room = await provider.open_room(_spec())
    for user_id in (1, 2, 1):  # a rejoin does not take a second seat
        resp = await _follow(provider.join_url(room, Joiner(user_id, "A", VIEWER)))
        assert resp.url.path == "/client/m-7f3a9c"
    resp = await _follow(provider.join_url(room, Joiner(3, "C", VIEWER)))
    assert "maxParticipantsReached" in await resp.text()


async def test_guest_joining_directly_has_no_user_id_until_leaving(
        bbb: BBBStandin, provider: BBBProvider) -> None:
    room = await provider.open_room(_spec())
    await bbb.join_directly(room.meeting_id, "w_guest", "Guest", "moderator")
    info = await provider.meeting_info(room.meeting_id)
    assert info.attendees == (Attendee(None, "Guest", MODERATOR),) and info.running
    await bbb.leave(room.meeting_id, "w_guest")
    info = await provider.meeting_info(room.meeting_id)
    assert info.attendees == () and not info.running and not info.ended


async def test_provider_ends_meeting_twice_then_sees_it_ended(
        bbb: BBBStandin, provider: BBBProvider, receiver: Receiver) -> None:
    room = await provider.open_room(_spec(record=False, base=receiver.url))
    await provider.end_meeting(room.meeting_id)
    await provider.end_meeting(room.meeting_id)
    await bbb.settle()
    assert (await provider.meeting_info(room.meeting_id)).ended
    assert receiver.ends == [{"token": "t0k=", "recordingmarks": "false"}]


async def test_standin_finish_delivers_callbacks_and_recording(
        bbb: BBBStandin, provider: BBBProvider, receiver: Receiver) -> None:
    room = await provider.open_room(_spec(base=receiver.url))
    assert await provider.recordings([room.meeting_id]) == []
    record_id = await bbb.finish(room.meeting_id, media=b"voice" * 10)
    assert record_id and bbb.callback_statuses == [("end", 200), ("recording_ready", 202)]
    assert receiver.ends == [{"token": "t0k=", "recordingmarks": "true"}]
    token = receiver.ready[0]["signed_parameters"]
    assert provider.verify_recording_ready(token) == (room.meeting_id, record_id)
    [rec] = await provider.recordings([room.meeting_id, "other"])
    assert (rec.record_id, rec.meeting_id, rec.published) == (record_id, room.meeting_id, True)
    assert rec.playback_url.endswith(record_id) and rec.minutes >= 1
    assert rec.media_url == f"{bbb.base_url}/presentation/{record_id}/video/webcams.webm"
    assert await provider.download(rec.media_url) == b"voice" * 10
    calls = len(bbb.calls)
    assert await provider.recordings([]) == [] and len(bbb.calls) == calls


def _none_token(payload: dict[str, str]) -> str:
    def part(obj: dict[str, str]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(payload)}."


@pytest.mark.parametrize("token", [
    sign_recording_callback("another-secret-of-sufficient-length-123", "m", "r"),
    _none_token({"meeting_id": "m", "record_id": "r"}),
    jwt.encode({"meeting_id": "m", "record_id": "r"}, SECRET + SECRET, algorithm="HS512"),
    jwt.encode({"meeting_id": "m"}, SECRET, algorithm="HS256"),
    jwt.encode({"meeting_id": "m", "record_id": 5}, SECRET, algorithm="HS256"),
    "garbage", "",
])
async def test_provider_verifies_bad_recording_token_refused(
        provider: BBBProvider, token: str) -> None:
    assert provider.verify_recording_ready(sign_recording_callback(SECRET, "m", "r")) == (
        "m", "r")
    with pytest.raises(VideoError) as caught:
        provider.verify_recording_ready(token)
    assert caught.value.key == "invalidSignature"


@pytest.mark.parametrize(("status", "retryable"), [(500, True), (503, True), (200, True),
                                                   (404, False)])
async def test_provider_meets_http_failure_gets_video_error(
        bbb: BBBStandin, provider: BBBProvider, status: int, retryable: bool) -> None:
    bbb.fail_next(1, status)  # status 200 with a non-XML body: a proxy's page
    with pytest.raises(VideoError) as caught:
        await provider.open_room(_spec())
    assert caught.value.retryable is retryable
    assert (await provider.open_room(_spec())).create_time > 0


async def test_provider_without_server_gets_retryable_error(bbb: BBBStandin) -> None:
    client = BBBProvider("http://127.0.0.1:9/bigbluebutton/api/", SECRET, timeout=2)
    with pytest.raises(VideoError) as caught:
        await client.meeting_info("m")
    await client.close()
    assert caught.value.retryable


async def test_provider_downloads_beyond_cap_refused(bbb: BBBStandin) -> None:
    client = BBBProvider(bbb.api_url, SECRET, max_download_bytes=100)
    room = await client.open_room(_spec())
    record_id = await bbb.finish(room.meeting_id, media=b"a" * 101)
    assert record_id
    with pytest.raises(VideoError, match="larger than"):
        await client.download(client.media_url(record_id))
    with pytest.raises(VideoError) as caught:
        await client.download(client.media_url("missing"))
    await client.close()
    assert not caught.value.retryable


async def test_jitsi_join_url_names_meeting_and_meeting_info_raises() -> None:
    jitsi = JitsiProvider("https://meet.example.org/", "unused")
    room = await jitsi.open_room(_spec("m-7f3a9c"))
    assert room == Room("m-7f3a9c", 0)
    url = jitsi.join_url(room, Joiner(1, 'Ana "A" Lí', VIEWER))
    assert url == ('https://meet.example.org/m-7f3a9c'
                   '#userInfo.displayName="Ana%20%5C%22A%5C%22%20L%C3%AD"')
    with pytest.raises(VideoError):
        await jitsi.meeting_info(room.meeting_id)
    assert await jitsi.recordings([room.meeting_id]) == []
    with pytest.raises(VideoError):
        jitsi.verify_recording_ready("x")
