"""Issue 7's "done when", in the terminal chat on the demo data: every step of the flywheel
typed as a person would type it (labels and numbers), through the real terminal loop, with
notifications printed beside what caused them. Only paying goes to the web server, as a
browser would; only the last step (the new teacher's own session ending) moves the clock."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from alphapeer.demo import PLATFORM, seed_demo
from bots.terminal.app import run_terminal, terminal_sender
from core.clock import FrozenClock
from core.models import Booking, Identity
from core.money import Money
from core.uow import Database
from handlers import payload
from handlers.dispatcher import Dispatcher
from payments.sandbox import SandboxProvider
from scheduling.courier import Courier
from scheduling.jobs import send_money_out
from tests.fakechat import FakeChat
from web_callbacks.app import create_app

LEARN_AND_CERTIFY = """\
:as priya
/learn 1
✓ 4. Files and modules done
📝 Python basics check
3
def
[0, 1, 2]
:as maya
/recommend
✓ Priya Nair · Python from Zero
Completion
Skip
:as ada
/certify
✅ Approve #1 Priya Nair
"""

APPLY_TO_TEACH = """\
:as priya
/certificates
/teach 1 I'd love to teach evenings, India time
:as ada
/applications
✓ Endorse Priya Nair
:as brian
/applications
✓ Approve Priya Nair
:as priya
/availability
Weekday evenings
✅ Publish
:as sam
/coursecard 1
👩‍🏫 Maya Schmidt
"""

BUILD_A_COURSE = """\
/newcourse
Rust Basics
Ownership and borrowing for people who know one other language.
Beginner
50
60 min
➕ Module
Ownership
Skip
https://video.example.com/ownership
📝 Quiz
Ownership check
60%
What happens to a String assigned to another variable? | copied | *moved | cloned
✓ Done
🚀 Publish
/students 1
"""


async def _terminal(db: Database, dispatcher: Dispatcher, script: str, user: str = "ada"
                    ) -> str:
    out = io.StringIO()
    courier = Courier(db, {PLATFORM: terminal_sender(out)})
    dispatcher.after_commit = None
    await run_terminal(dispatcher.handle, user, stdin=io.StringIO(script), stdout=out,
                       settle=courier.deliver_due)
    text = out.getvalue()
    assert "Traceback" not in text and "I didn't catch that" not in text, text
    return text


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


async def _key_of(db: Database, user_id: int) -> str:
    async with db.uow() as uow:
        key = await uow.session.scalar(select(Identity.external_id).where(
            Identity.platform == PLATFORM, Identity.user_id == user_id))
        assert key is not None
        return key


async def test_demo_flywheel_step_by_step_in_the_terminal(
        db: Database, dispatcher: Dispatcher, clock: FrozenClock) -> None:
    assert await seed_demo(db)
    out = await _terminal(db, dispatcher, BUILD_A_COURSE)
    assert "🚀 Published!" in out and "1. Ownership 🎬" in out
    assert "Priya Nair" in out.split("/students 1", 1)[1]  # the creator's dashboard

    out = await _terminal(db, dispatcher, LEARN_AND_CERTIFY)
    assert "✅ “Files and modules” done" in out
    assert "✅ Passed with" in out
    assert "ready for Completion ✓" in out
    assert "📨 to ada> 🎓 Maya Schmidt recommends Priya Nair" in out
    code = re.search(r"/verify/([A-Za-z0-9_-]+)", out.split("/certify", 1)[1])
    assert code is not None
    assert "📨 to priya> 🎓 Congratulations!" in out

    sandbox = SandboxProvider(db.settings.web.public_url)
    async with TestClient(TestServer(create_app(db))) as http:
        page = await http.get(f"/verify/{code.group(1)}")
        body = await page.text()
        assert page.status == 200 and "Priya Nair" in body and "Python from Zero" in body

        out = await _terminal(db, dispatcher, APPLY_TO_TEACH)
        assert "(attached file: certificate-" in out
        assert "✓ Priya Nair approved for Python from Zero" in out
        assert "📨 to priya> 🎉 You now teach Python from Zero" in out
        card = out.split("/coursecard 1", 1)[1]
        assert "• Priya Nair — new · 0 sessions taught · next free" in card
        assert "🧑‍🏫 Teaching · Python from Zero · 1 student taught · " in card  # Maya's

        # Sam books Priya and pays on the sandbox page, as the browser would.
        sam = FakeChat(dispatcher, "sam", "Sam Carter", platform=PLATFORM)
        await sam.send("/book 1")
        await sam.click("Priya Nair")
        await sam.send("1")
        await sam.send("1")
        await sam.click("Hold & pay")
        resp = await http.get(_path(sam.url("Pay")), allow_redirects=False)
        resp = await http.post(_path(resp.headers["Location"]), data={"action": "pay"})
        assert "Thank you" in await resp.text()

        # The demo's past: Maya (a student-teacher) taught Priya; Brian releases and
        # Maya has earned 70% of each session.
        out = await _terminal(db, dispatcher, ":as brian\n/releases\n4\n:as maya\n/earnings\n")
        assert "3 session(s) ready for release" in out
        assert "Payouts on their way:         $84.00" in out  # 3 × 70% of $40

        # Priya's own session ends; both confirm; Brian releases: she earns 70% too.
        async with db.uow() as uow:
            booking = await uow.session.scalar(
                select(Booking).order_by(Booking.id.desc()).limit(1))
            assert booking is not None and booking.status == "confirmed"
        priya = FakeChat(dispatcher, await _key_of(db, booking.teacher_id), platform=PLATFORM)
        assert priya.user_key == "priya"
        clock.set(booking.ends_at + timedelta(minutes=30))
        await sam.press(payload.command("attended", f"{booking.id} held"))
        await priya.press(payload.command("attended", f"{booking.id} held"))
        clock.advance(hours=db.settings.payments.cooling_off_hours)
        out = await _terminal(db, dispatcher, f":as brian\n/releases\n✅ Approve #{booking.id} "
                              f"({booking.price})\n")
        assert f"#{booking.id}" in out
        assert await send_money_out(db, sandbox) >= 1
        await priya.send("/earnings")
        seventy = Money(booking.price_minor * 70 // 100, booking.currency)
        assert f"Paid out:                     {seventy}" in priya.text
