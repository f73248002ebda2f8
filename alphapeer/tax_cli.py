"""``alphapeer tax report --year YYYY --out DIR``: one CSV and PDF per payee at or above the
tax-report threshold, and a summary CSV of them all."""

from __future__ import annotations

import sys
from pathlib import Path

from core.clock import Clock
from core.config import Settings
from core.errors import InvalidInput
from core.models import User
from core.tax import check_year, get_year_report, last_complete_year, list_reportable
from core.tax_document import report_csv, report_pdf, summary_csv
from core.uow import Database

Files = list[tuple[str, bytes]]


async def collect_tax_reports(db: Database, year: int | None) -> tuple[int, Files]:
    """The year reported and its files (name, content); read in one unit of work."""
    async with db.uow() as uow:
        year = last_complete_year(uow) if year is None else year
        check_year(uow, year)
        payees = await list_reportable(uow, year)
        files: Files = [(f"{year}-summary.csv", summary_csv(year, payees))]
        for user_id in sorted(p.user_id for p in payees):
            user = await uow.session.get(User, user_id)
            assert user is not None
            report = await get_year_report(uow, user, year)
            stem = f"{year}-payee-{user_id}"
            files += [(f"{stem}.csv", report_csv(report)),
                      (f"{stem}.pdf", report_pdf(report, uow.clock.now()))]
        return year, files


def write_files(out: Path, files: Files) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, body in files:
        (out / name).write_bytes(body)


async def tax_command(settings: Settings, year: int | None, out: Path,
                      clock: Clock | None = None) -> int:
    from alphapeer.bootstrap import build
    from alphapeer.runner import ensure_migrated

    app = build(settings, clock)
    try:
        await ensure_migrated(app.db)
        try:
            year, files = await collect_tax_reports(app.db, year)
        except InvalidInput as exc:
            print(exc.user_message, file=sys.stderr)
            return 2
        write_files(out, files)
        payees = (len(files) - 1) // 2
        print(f"{year}: {payees} payee(s) at or above the threshold; "
              f"{len(files)} file(s) written to {out}")
        return 0
    finally:
        await app.db.dispose()
