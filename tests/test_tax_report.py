"""Yearly earnings reports for tax filing: what a teacher, a creator and the admin get from
/taxreport and `alphapeer tax report` — figures in the CSV and PDF, UTC year boundaries, the
threshold, and clear answers to bad input that change nothing."""

from __future__ import annotations

import contextlib
import csv
import io
import re
import zlib
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from alphapeer.tax_cli import tax_command
from core import ledger
from core.booking import cancel_booking, hold_slot
from core.clock import FrozenClock
from core.escrow import release_booking
from core.ledger_check import check_ledger
from core.models import LedgerEntry, MoneyOut, OutboxMessage
from core.money import Money
from core.payment import handle_event, record_checkout
from core.payment_port import CHECKOUT_PAID, PaymentEvent
from core.tax import Month, YearReport, get_year_report
from core.tax_document import report_csv, report_pdf
from core.uow import Database
from handlers import payload
from handlers.reply import Reply
from payments.sandbox import SandboxProvider
from scheduling.jobs import send_money_out
from tests.fakechat import FakeChat
from tests.world import World, add_person

SESSIONS = [datetime(2026, 11, 24 + i, 9, 0, tzinfo=UTC) for i in range(3)]  # Maya, Python
NEW_YEARS_EVE = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)  # already 1 January in Berlin
NEW_YEAR = datetime(2027, 1, 1, 0, 30, tzinfo=UTC)


@dataclass
class Year:
    maya: FakeChat
    ada: FakeChat
    brian: FakeChat


async def _pay(db: Database, world: World, at: datetime) -> int:
    async with db.uow() as uow:
        booking = await hold_slot(uow, world.sam, world.python.id, world.maya.id, at)
        checkout = await record_checkout(uow, booking, "sandbox", f"cs_{booking.id}", "")
        await handle_event(uow, PaymentEvent(
            "sandbox", f"evt_{booking.id}", CHECKOUT_PAID, checkout_ref=checkout.checkout_ref,
            charge_ref=f"ch_{booking.id}", amount=booking.price, booking_id=booking.id), {})
        return booking.id


async def _release_and_pay_out(db: Database, clock: FrozenClock, booking_id: int,
                               at: datetime) -> None:
    clock.set(at)
    async with db.uow() as uow:
        await release_booking(uow, booking_id)
    clock.advance(minutes=10)
    assert await send_money_out(db, SandboxProvider(db.settings.web.public_url)) == 2


@pytest.fixture
async def year(db: Database, world: World, clock: FrozenClock,
               chat: FakeChat, chat_as) -> Year:  # type: ignore[no-untyped-def]
    """Maya teaches three $40 sessions: one released on 31 December 23:30 UTC, one on
    1 January 00:30 UTC, and one she cancels late in November ($4 charge)."""
    async with db.uow() as uow:
        await add_person(uow, "brian", "Brian", "Europe/London", "admin")
    first, second, third = [await _pay(db, world, at) for at in SESSIONS]
    clock.set(SESSIONS[2] - timedelta(hours=2))
    async with db.uow() as uow:
        await cancel_booking(uow, world.maya, third, "ill")
    assert await send_money_out(db, SandboxProvider(db.settings.web.public_url)) == 1
    maya: FakeChat = chat_as("maya")
    for booking_id in (first, second):
        for person in (chat, maya):
            await person.press(payload.command("attended", f"{booking_id} held"))
    await _release_and_pay_out(db, clock, first, NEW_YEARS_EVE)  # payouts sent 23:40
    await _release_and_pay_out(db, clock, second, NEW_YEAR)
    async with db.uow() as uow:
        assert await check_ledger(uow) == []
    return Year(maya, chat_as("ada"), chat_as("brian"))


def _threshold(monkeypatch: pytest.MonkeyPatch, db: Database, minor: int) -> None:
    payments = replace(db.settings.payments, tax_report_threshold_minor=minor)
    monkeypatch.setattr(db, "settings", replace(db.settings, payments=payments))


def _file(chat: FakeChat, suffix: str) -> bytes:
    [found] = [r for r in chat.last if r.file_name and r.file_name.endswith(suffix)]
    assert found.file is not None
    return found.file


def _rows(body: bytes) -> dict[str, dict[str, str]]:
    """CSV rows keyed by their first distinguishing column (month, or payee name)."""
    reader = csv.DictReader(io.StringIO(body.decode("utf-8-sig")))
    return {row.get("month") or row["payee_name"]: row for row in reader}


def _pdf_text(pdf: bytes) -> str:
    """The strings the PDF draws, from its (deflated) content streams."""
    drawn: list[str] = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        with contextlib.suppress(zlib.error):  # fpdf2 deflates pages unless told not to
            stream = zlib.decompress(stream)
        for raw in re.findall(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", stream):
            drawn.append(re.sub(rb"\\(.)", rb"\1", raw).decode("cp1252"))
    return "\n".join(drawn)


def _written(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()} if folder.exists() else {}


def _no_files(replies: list[Reply]) -> bool:
    return all(r.file is None for r in replies)


async def test_teacher_gets_last_years_summary_with_csv_and_pdf(year: Year) -> None:
    await year.maya.send("/taxreport")
    text = year.maya.text
    assert "Your 2026 earnings, UTC calendar year (USD)" in text
    assert "Gross released to you: $28.00" in text
    assert "Charges deducted:      $4.00" in text
    assert "Net:                   $24.00" in text
    assert "Payouts sent:          1 · $24.00" in text  # $4 of the $28 settled the charge
    assert "below the $600.00 reporting threshold" in text and "not tax advice" in text
    rows = _rows(_file(year.maya, "alpha-peer-earnings-2026.csv"))
    assert (rows["2026-11"]["gross"], rows["2026-11"]["charges"]) == ("0.00", "4.00")
    assert (rows["2026-12"]["gross"], rows["2026-12"]["payouts_total"]) == ("28.00", "24.00")
    total = rows["total"]
    assert (total["payee_name"], total["currency"], total["gross"], total["charges"],
            total["net"], total["payouts_sent"], total["payouts_total"]) == (
        "Maya", "USD", "28.00", "4.00", "24.00", "1", "24.00")
    assert len(rows) == 13
    pdf = _file(year.maya, "alpha-peer-earnings-2026.pdf")
    assert pdf.startswith(b"%PDF-") and b"/Count 1" in pdf  # one page
    drawn = _pdf_text(pdf)
    for expected in ("Alpha Peer", "Earnings summary for 2026", "Payee: Maya", "$28.00",
                     "$4.00", "$24.00", "Payouts sent (1)", "Dec",
                     "1099-style summary; threshold $600.00; not tax advice."):
        assert expected in drawn, expected


async def test_release_at_2330_utc_on_new_years_eve_counts_in_that_year_not_the_next(
        year: Year) -> None:
    await year.maya.send("/taxreport 2027")
    assert "Your 2027 earnings so far" in year.maya.text  # the clock is in January 2027
    rows = _rows(_file(year.maya, "2027.csv"))
    assert rows["2027-01"]["gross"] == "28.00" and rows["total"]["gross"] == "28.00"
    assert rows["total"]["charges"] == "0.00" and rows["total"]["payouts_total"] == "28.00"
    await year.maya.click("◀ 2026")
    rows = _rows(_file(year.maya, "2026.csv"))
    assert rows["2026-12"]["gross"] == "28.00" and rows["total"]["gross"] == "28.00"
    assert rows["2026-01"]["gross"] == "0.00"


async def test_creator_gets_their_share_and_below_threshold_still_gets_the_files(
        year: Year) -> None:
    await year.ada.send("/taxreport 2026")
    assert "Gross released to you: $6.00" in year.ada.text
    assert "below the $600.00 reporting threshold" in year.ada.text
    assert _rows(_file(year.ada, ".csv"))["total"]["gross"] == "6.00"
    assert "Ada" in _pdf_text(_file(year.ada, ".pdf"))


async def test_admin_lists_only_payees_at_or_above_the_threshold(
        year: Year, db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    await year.brian.send("/taxreport all")
    assert "No payee was released $600.00 or more in 2026" in year.brian.text
    assert _no_files(year.brian.last)
    _threshold(monkeypatch, db, 2800)  # exactly Maya's gross: "at or above" includes it
    await year.brian.send("/taxreport all 2026")
    assert "2026: 1 payee(s) released $28.00 or more" in year.brian.text
    assert "Maya (#" in year.brian.text and "gross $28.00 · net $24.00" in year.brian.text
    assert "Ada" not in year.brian.text
    assert set(_rows(_file(year.brian, "alpha-peer-payees-2026.csv"))) == {"Maya"}
    await year.maya.send("/taxreport")
    assert "at or above the $28.00 reporting threshold" in year.maya.text
    _threshold(monkeypatch, db, 500)
    await year.brian.send("/taxreport all 2026")
    summary = _rows(_file(year.brian, ".csv"))
    assert list(summary) == ["Maya", "Ada"]  # highest gross first
    assert (summary["Ada"]["gross"], summary["Ada"]["payouts_sent"]) == ("6.00", "1")


async def test_cli_writes_a_csv_and_pdf_per_payee_over_threshold_and_a_summary(
        year: Year, db: Database, world: World, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    _threshold(monkeypatch, db, 2000)
    assert await tax_command(db.settings, 2026, tmp_path, clock=db.clock) == 0
    stem = f"2026-payee-{world.maya.id}"
    files = _written(tmp_path)
    assert sorted(files) == [f"{stem}.csv", f"{stem}.pdf", "2026-summary.csv"]
    assert _rows(files["2026-summary.csv"])["Maya"]["net"] == "24.00"
    assert _rows(files[f"{stem}.csv"])["total"]["gross"] == "28.00"
    assert "Payee: Maya" in _pdf_text(files[f"{stem}.pdf"])
    elsewhere = tmp_path / "future"
    assert await tax_command(db.settings, 2031, elsewhere, clock=db.clock) == 2
    assert _written(elsewhere) == {}


async def _money_rows(db: Database) -> tuple[int, int, int]:
    async with db.uow() as uow:
        counts = [await uow.session.scalar(select(func.count()).select_from(table))
                  for table in (LedgerEntry, MoneyOut, OutboxMessage)]
    return tuple(int(c or 0) for c in counts)  # type: ignore[return-value]


@pytest.mark.parametrize(("who", "args", "answer"), [
    ("maya", "abc", "Write /taxreport for last year's earnings report"),
    ("maya", "2026 2027", "Write /taxreport for last year's earnings report"),
    ("maya", "²⁰²⁶", "Write /taxreport for last year's earnings report"),
    ("maya", "1999", "There are no records before 2000"),
    ("maya", "2028", "2028 hasn't happened yet; the latest report is for 2027"),
    ("maya", "all 2026", "Only the admin sees everyone's totals"),
    ("brian", "all 2099", "2099 hasn't happened yet"),
    ("brian", "all twenty", "Write /taxreport all for last year's payees"),
    ("sam", "2026", "/taxreport isn't available to you"),
])
async def test_bad_input_gets_a_clear_answer_and_changes_nothing(
        year: Year, db: Database, chat_as, who: str, args: str,  # type: ignore[no-untyped-def]
        answer: str) -> None:
    before = await _money_rows(db)
    person: FakeChat = chat_as(who)
    replies = await person.send(f"/taxreport {args}")
    assert answer in person.text and _no_files(replies)
    assert await _money_rows(db) == before


async def test_teacher_without_earnings_is_told_there_is_no_report(
        db: Database, world: World, chat_as) -> None:  # type: ignore[no-untyped-def]
    ken: FakeChat = chat_as("ken")
    replies = await ken.send("/taxreport")
    assert "Nothing was released to you or paid out to you in 2025" in ken.text
    assert _no_files(replies) and "2026 ▶" in ken.labels


async def test_refund_taken_back_is_a_charge_and_a_reversed_payout_is_not_income(
        year: Year, db: Database, world: World, clock: FrozenClock) -> None:
    clock.set(datetime(2027, 1, 5, tzinfo=UTC))
    async with db.uow() as uow:
        usd = Money(1000, "USD")
        await ledger.post(uow, "clawback:t", "clawback",
                          ledger.move(usd, ledger.earned(world.maya.id), ledger.on_its_way(99)))
        await ledger.post(uow, "reversal:t", "reversal",
                          ledger.receive(usd, "sandbox", ledger.earned(world.maya.id)))
        report = await get_year_report(uow, world.maya, 2027)
    assert (report.gross, report.charges, report.net) == (
        Money(2800, "USD"), Money(1000, "USD"), Money(1800, "USD"))


def test_pdf_and_csv_survive_names_outside_latin_and_formula_like_names() -> None:
    usd = Money.zero("USD")
    months = tuple(Month(m, Money(1000 * m, "USD"), usd, usd) for m in range(1, 13))
    report = YearReport(7, "=Łukasz 健 José", 2026, Money(60000, "USD"), months, complete=True)
    row = _rows(report_csv(report))["total"]
    assert row["payee_name"] == "'=Łukasz 健 José"  # never run as a spreadsheet formula
    assert row["gross"] == "780.00" and report.reportable
    drawn = _pdf_text(report_pdf(report, datetime(2027, 1, 2, tzinfo=UTC), compress=False))
    assert "José" in drawn and "$780.00" in drawn and "At or above" in drawn

