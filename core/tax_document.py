"""A payee's yearly earnings as files for tax filing: a CSV (one row per month and a total)
and a one-page PDF; and the admin's summary CSV of the payees over the threshold.

Rendering lives beside the data, like the calendar invite (``core/invite.py``): the chat
command and the ``alphapeer tax report`` command line send the very same files."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from core.money import Money
from core.tax import PayeeTotal, YearReport

if TYPE_CHECKING:  # fpdf is loaded when a PDF is made, not with the bot (35 MB)
    from fpdf import FPDF

PLATFORM = "Alpha Peer"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
PAYEE_COLUMNS = ("year", "month", "payee_id", "payee_name", "currency", "gross", "charges",
                 "net", "payouts_sent", "payouts_total")
SUMMARY_COLUMNS = ("year", "payee_id", "payee_name", "currency", "gross", "charges", "net",
                   "payouts_sent", "payouts_total")
# The PDF's built-in fonts cover Windows-1252: enough for amounts and most Latin names.
PDF_ENCODING = "windows-1252"


def note(report: YearReport) -> str:
    return f"1099-style summary; threshold {report.threshold}; not tax advice."


def plain(amount: Money) -> str:
    """``-1234.50``: the amount as a spreadsheet reads it (the currency is its own column)."""
    return re.sub(r"[^0-9.-]", "", amount.format())


def _cell(text: str) -> str:
    # A name starting with = + - @ would run as a formula in a spreadsheet (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv(header: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")  # the BOM makes Excel read names as UTF-8


def report_csv(report: YearReport) -> bytes:
    def row(month: str, gross: Money, charges: Money, payouts: Money, sent: int) -> list[object]:
        return [report.year, month, report.user_id, _cell(report.name), report.currency,
                plain(gross), plain(charges), plain(gross - charges), sent, plain(payouts)]

    rows = [row(f"{report.year}-{m.month:02d}", m.gross, m.charges, m.payouts, m.payouts_sent)
            for m in report.months]
    rows.append(row("total", report.gross, report.charges, report.payouts_total,
                    report.payouts_sent))
    return _csv(PAYEE_COLUMNS, rows)


def summary_csv(year: int, payees: Sequence[PayeeTotal]) -> bytes:
    return _csv(SUMMARY_COLUMNS, [
        [year, p.user_id, _cell(p.name), p.gross.currency, plain(p.gross), plain(p.charges),
         plain(p.net), p.payouts_sent, plain(p.payouts_total)] for p in payees])


def _drawable(char: str) -> str:
    try:
        char.encode(PDF_ENCODING)
        return char
    except UnicodeEncodeError:
        bare = "".join(c for c in unicodedata.normalize("NFKD", char)
                       if not unicodedata.combining(c))
        return bare.encode(PDF_ENCODING, "replace").decode(PDF_ENCODING)


def _pdf_text(text: str) -> str:
    """What the built-in fonts can draw: others lose their accents, or become ``?``."""
    return "".join(map(_drawable, text))


def _line(pdf: FPDF, text: str, *, size: float = 10, style: str = "", height: float = 6
          ) -> None:
    pdf.set_font("Helvetica", style, size)
    pdf.cell(0, height, _pdf_text(text), new_x="LMARGIN", new_y="NEXT")


def _row(pdf: FPDF, cells: Sequence[str], widths: Sequence[float], *, bold: bool = False,
         border: str = "B") -> None:
    pdf.set_font("Helvetica", "B" if bold else "", 10)
    for i, (text, width) in enumerate(zip(cells, widths, strict=True)):
        pdf.cell(width, 6.5, _pdf_text(text), border=border, align="L" if i == 0 else "R")
    pdf.ln(6.5)


def report_pdf(report: YearReport, generated_at: datetime, *, compress: bool = True) -> bytes:
    """One Letter page: who, which year, the totals, a monthly table and the note."""
    from fpdf import FPDF

    pdf = FPDF(format="Letter")
    pdf.core_fonts_encoding = PDF_ENCODING
    pdf.set_compression(compress)
    pdf.set_creation_date(generated_at)
    pdf.set_title(_pdf_text(f"{PLATFORM} earnings summary {report.year}: {report.name}"))
    pdf.set_author(PLATFORM)
    pdf.set_auto_page_break(False)
    pdf.set_margins(20, 18, 20)
    pdf.add_page()
    _line(pdf, PLATFORM, size=18, style="B", height=9)
    _line(pdf, f"Earnings summary for {report.year} (1099-style)", size=13, style="B",
          height=8)
    period = "" if report.complete else " (year to date; the year is not over)"
    _line(pdf, f"Payee: {report.name} (account #{report.user_id})")
    _line(pdf, f"Period: 1 January to 31 December {report.year}, UTC{period}")
    _line(pdf, f"Currency: {report.currency} · Generated {generated_at:%Y-%m-%d %H:%M} UTC")
    pdf.ln(4)
    totals = (95.0, 40.0)
    _row(pdf, ("Gross earnings released to you", str(report.gross)), totals)
    _row(pdf, ("Charges deducted (late cancellations, refunds)", str(report.charges)), totals)
    _row(pdf, ("Net earnings", str(report.net)), totals, bold=True)
    _row(pdf, (f"Payouts sent ({report.payouts_sent})", str(report.payouts_total)), totals)
    pdf.ln(5)
    widths = (30.0, 35.0, 35.0, 35.0, 35.0)
    _row(pdf, ("Month", "Gross", "Charges", "Net", "Payouts sent"), widths, bold=True)
    for m in report.months:
        _row(pdf, (MONTHS[m.month - 1], str(m.gross), str(m.charges), str(m.net),
                   str(m.payouts)), widths, border="")
    _row(pdf, ("Total", str(report.gross), str(report.charges), str(report.net),
               str(report.payouts_total)), widths, bold=True, border="T")
    pdf.ln(5)
    status = ("At or above the reporting threshold" if report.reportable
              else "Below the reporting threshold; kept for your records")
    _line(pdf, f"{status} ({report.threshold}).", style="B")
    pdf.ln(2)
    pdf.set_font("Helvetica", "", 9)
    pdf.multi_cell(0, 5, _pdf_text(
        f"{note(report)} Gross is your share of session payments released to you after the "
        "platform's and the course creator's shares; charges are amounts taken from your "
        "earnings. Payouts are transfers to your payout account and may fall in a later "
        f"year than the earnings they pay. {PLATFORM} does not hold your tax identification "
        "number; ask a tax professional how to report this income."))
    return bytes(pdf.output())
