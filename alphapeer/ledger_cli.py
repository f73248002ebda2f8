"""``alphapeer ledger check`` (exit 1 on any broken invariant) and ``ledger report``."""

from __future__ import annotations

from collections import defaultdict

from core.config import Settings
from core.ledger import all_balances
from core.ledger_check import check_ledger
from core.money import Money

GROUPS = (("cash:", "Held at the payment provider"), ("held:", "Held for sessions"),
          ("frozen:", "Frozen by disputes"), ("out:", "Refunds and payouts on their way"),
          ("earned:", "Released to teachers and creators, not yet paid out"),
          ("fees:", "Platform revenue"))


async def ledger_command(settings: Settings, action: str) -> int:
    from alphapeer.bootstrap import build
    from alphapeer.runner import ensure_migrated

    app = build(settings)
    try:
        await ensure_migrated(app.db)
        async with app.db.uow() as uow:
            if action == "check":
                problems = await check_ledger(uow)
                for problem in problems:
                    print(f"FAIL {problem}")
                print("ledger check: " + (f"{len(problems)} problem(s)" if problems else "ok"))
                return 1 if problems else 0
            print(report(await all_balances(uow)))
            return 0
    finally:
        await app.db.dispose()


def report(rows: list[tuple[str, str, int]]) -> str:
    """Balances grouped by what they mean, with a total per group and currency."""
    lines: list[str] = []
    for prefix, title in GROUPS:
        mine = [(a, c, m) for a, c, m in rows if a.startswith(prefix) and m]
        totals: dict[str, int] = defaultdict(int)
        for _a, currency, minor in mine:
            totals[currency] += minor
        shown = ", ".join(str(Money(m, c)) for c, m in sorted(totals.items())) or "0"
        lines.append(f"{title}: {shown}")
        lines += [f"  {a:<24} {Money(m, c)}" for a, c, m in mine[:50]]
        if len(mine) > 50:
            lines.append(f"  … and {len(mine) - 50} more accounts")
    return "\n".join(lines)
