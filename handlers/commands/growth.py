"""/growth (admin): where people came from, the referral funnel per channel, inquiry →
enrolment and free intro → paid session conversion — compact text and a chart."""

from __future__ import annotations

from core.growth import GrowthReport, growth_report
from handlers.charts import progress_chart
from handlers.context import Ctx
from handlers.registry import Command
from handlers.reply import Reply

WIDTH = 10


def bar(n: int, most: int) -> str:
    filled = round(WIDTH * n / most) if most else 0
    return "█" * filled + "░" * (WIDTH - filled)


def pct(part: int, whole: int) -> int:
    """A whole percentage, halves rounded up (round() would make 12.5 into 12)."""
    return (200 * part + whole) // (2 * whole) if whole else 0


def table(report: GrowthReport) -> str:
    most = max((o.count for o in report.origins), default=0)
    lines = [f"Where {report.people} people came from"]
    lines += [f"{o.label[:20]:<21}{bar(o.count, most)} {o.count:>4} "
              f"{pct(o.count, report.people):>3}%" for o in report.origins] or [
        "nobody has signed up yet"]
    lines += ["", f"{'Referrals':<11}{'invited':>8}{'joined':>8}{'enrolled':>9}"]
    lines += [f"{f.channel:<11}{f.invited:>8}{f.joined:>8}{f.enrolled:>9}"
              for f in report.funnel]
    q = report.inquiries
    sources = " · ".join(f"{s} {n}→{d}" for s, (n, d) in sorted(q.by_source.items()))
    intros, paid = report.intros
    lines += ["", f"Inquiries   {q.total} → {q.converted} enrolled ({q.pct}%)"
              + (f"  [{sources}]" if sources else ""),
              f"Free intros {intros} → {paid} paid session ({pct(paid, intros)}%)"]
    return "\n".join(lines)


async def growth(ctx: Ctx, args: str) -> list[Reply]:
    report = await growth_report(ctx.uow)
    replies = [Reply("📈 Growth: where people come from and what it led to "
                     "(links count as invited when someone arrives by one).",
                     pre=table(report), replace=ctx.clicked)]
    if report.people:
        bars = [(o.label, pct(o.count, report.people)) for o in report.origins]
        replies.append(Reply("Where people came from — share of sign-ups",
                             image=progress_chart("Where people came from (% of sign-ups)",
                                                  bars)))
    return replies


COMMAND = Command("growth", "Where users come from; referral, inquiry and intro conversion",
                  handler=growth, roles=frozenset({"admin"}))
