"""/taxreport [year] (teachers, creators): a yearly earnings summary for tax filing with the
CSV and PDF; /taxreport all [year] (admin): the payees at or above the threshold."""

from __future__ import annotations

from core.errors import InvalidInput
from core.tax import (
    FIRST_YEAR,
    YearReport,
    check_year,
    get_year_report,
    last_complete_year,
    list_reportable,
    threshold,
)
from core.tax_document import report_csv, report_pdf, summary_csv
from handlers import payload
from handlers.context import Ctx
from handlers.registry import Command
from handlers.reply import Button, Reply, clip

USAGE = ("Write /taxreport for last year's earnings report, or /taxreport 2025 for another "
         "year.")
ADMIN_USAGE = "Write /taxreport all for last year's payees, or /taxreport all 2025."
SHOWN = 15


def _year(ctx: Ctx, words: list[str], usage: str) -> int:
    if not words:
        return last_complete_year(ctx.uow)
    raw = words[0]
    if len(words) > 1 or not (raw.isascii() and raw.isdigit()) or len(raw) > 4:
        raise InvalidInput(usage)
    year = int(raw)
    check_year(ctx.uow, year)
    return year


def _years(ctx: Ctx, year: int) -> tuple[tuple[Button, ...], ...]:
    """Buttons to the neighbouring years that can be reported."""
    row = []
    if year - 1 >= FIRST_YEAR:
        row.append(Button(f"◀ {year - 1}", action=payload.command("taxreport", str(year - 1))))
    if year + 1 <= ctx.uow.clock.now().year:
        row.append(Button(f"{year + 1} ▶", action=payload.command("taxreport", str(year + 1))))
    return (tuple(row),) if row else ()


def _summary(r: YearReport) -> str:
    so_far = "" if r.complete else " so far (the year isn't over)"
    lines = [f"🧾 Your {r.year} earnings{so_far}, UTC calendar year ({r.currency}):",
             f"Gross released to you: {r.gross}",
             f"Charges deducted:      {r.charges}",
             f"Net:                   {r.net}",
             f"Payouts sent:          {r.payouts_sent} · {r.payouts_total}"]
    if r.reportable:
        lines.append(f"\nYour gross is at or above the {r.threshold} reporting threshold: "
                     "keep these files for your tax filing.")
    else:
        lines.append(f"\nYour gross is below the {r.threshold} reporting threshold, so you "
                     "aren't on this year's 1099-style list; here is your report for your "
                     "records anyway.")
    lines.append("A 1099-style summary, not tax advice.")
    return "\n".join(lines)


async def _own(ctx: Ctx, year: int) -> list[Reply]:
    report = await get_year_report(ctx.uow, ctx.user, year)
    if report.empty:
        hint = ("\nAs the admin, /taxreport all lists the payees over the threshold."
                if "admin" in ctx.user.role_names else "")
        return [Reply(f"🧾 Nothing was released to you or paid out to you in {year} (UTC), "
                      f"so there is no earnings report for that year.{hint}",
                      _years(ctx, year), replace=ctx.clicked)]
    stem = f"alpha-peer-earnings-{year}"
    return [Reply(_summary(report), _years(ctx, year), replace=ctx.clicked),
            Reply("📄 Month by month, for a spreadsheet (CSV).", file_name=f"{stem}.csv",
                  file=report_csv(report)),
            Reply("📄 The one-page summary (PDF).", file_name=f"{stem}.pdf",
                  file=report_pdf(report, ctx.uow.clock.now()))]


async def _everyone(ctx: Ctx, year: int) -> list[Reply]:
    payees = await list_reportable(ctx.uow, year)
    limit = threshold(ctx.uow)
    if not payees:
        return [Reply(f"🧾 No payee was released {limit} or more in {year} (UTC), so there "
                      "are no 1099-style reports to file for that year.")]
    lines = [f"🧾 {year}: {len(payees)} payee(s) released {limit} or more (UTC year):"]
    for p in payees[:SHOWN]:
        lines.append(clip(f"{p.name} (#{p.user_id}) · gross {p.gross} · net {p.net} · "
                          f"paid out {p.payouts_total} ({p.payouts_sent})", 140))
    if len(payees) > SHOWN:
        lines.append(f"… and {len(payees) - SHOWN} more: all of them are in the CSV.")
    lines.append(f"\nEach payee's CSV and PDF: alphapeer tax report --year {year} --out DIR")
    return [Reply("\n".join(lines)),
            Reply("📄 Payees over the threshold (CSV).",
                  file_name=f"alpha-peer-payees-{year}.csv", file=summary_csv(year, payees))]


async def tax_report(ctx: Ctx, args: str) -> list[Reply]:
    words = args.split()
    if words and words[0].casefold() == "all":
        if "admin" not in ctx.user.role_names:
            raise InvalidInput(f"Only the admin sees everyone's totals. {USAGE}")
        return await _everyone(ctx, _year(ctx, words[1:], ADMIN_USAGE))
    return await _own(ctx, _year(ctx, words, USAGE))


COMMAND = Command("taxreport", "Your yearly earnings report for tax filing (CSV and PDF)",
                  handler=tax_report, roles=frozenset({"teacher", "creator", "admin"}),
                  args_hint="[year]")
