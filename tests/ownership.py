"""Who owns what, for the random-turns test: a turn may only change rows the acting person
has a stake in (see tests/test_random_turns.py for why that is sound)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from core.db import Base
from core.uow import Database

TRACKED = ("booking", "payment", "session_message", "conversation", "profile", "account_email",
           "user_account", "direct_message", "follow", "block")
FACTS = ("course", "identity", "user_role", "direct_thread", "certification_request",
         "teaching_application", "course_module", "quiz")
Rows = dict[str, dict[tuple[Any, ...], dict[str, Any]]]


async def snapshot(db: Database) -> Rows:
    """Every row of the tracked tables and the facts, by primary key."""
    rows: Rows = {}
    async with db.engine.connect() as conn:
        for name in TRACKED + FACTS:
            table = Base.metadata.tables[name]
            pk = [c.name for c in table.primary_key.columns]
            found = (await conn.execute(select(table))).mappings().all()
            rows[name] = {tuple(r[c] for c in pk): dict(r) for r in found}
    return rows


@dataclass
class Owners:
    """Who has a stake in a row, from the rows before and after a turn."""

    before: Rows
    after: Rows
    admins: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.admins = {r["user_id"] for snap in (self.before, self.after)
                       for r in snap["user_role"].values() if r["role"] == "admin"}

    def _row(self, table: str, key: Any) -> dict[str, Any] | None:
        return self.after[table].get((key,)) or self.before[table].get((key,))

    def of_booking(self, booking_id: int) -> set[int]:
        b = self._row("booking", booking_id)
        if b is None:
            return set()
        course = self._row("course", b["course_id"])
        return {b["student_id"], b["teacher_id"], course["creator_id"] if course else -1}

    def of(self, table: str, row: dict[str, Any]) -> set[int]:
        if table == "booking":
            return self.of_booking(row["id"])
        if table in ("payment", "session_message"):
            return self.of_booking(row["booking_id"])
        if table == "user_account":
            return {row["id"]}
        if table == "direct_message":
            return {row["sender_id"], row["recipient_id"]}
        if table == "follow":
            return {row["follower_id"]}
        if table == "block":
            return {row["blocker_id"]}
        return {row["user_id"]}  # profile, account_email


def _lapsed_hold(before: dict[str, Any] | None, after: dict[str, Any] | None,
                 now: datetime) -> bool:
    """A hold past its expiry turned ``expired`` (whoever's turn noticed it)."""
    if before is None or after is None or before["status"] != "held":
        return False
    changed = {k for k in after if after[k] != before[k]}
    lapsed = before["hold_expires_at"] is not None and before["hold_expires_at"] <= now
    return changed == {"status"} and after["status"] == "expired" and lapsed


def cross_user_writes(before: Rows, after: Rows, actor: set[int], key: tuple[str, str, str],
                      now: datetime) -> list[str]:
    """Rows this turn changed that the acting person has no stake in."""
    owners = Owners(before, after)
    wrong = []
    for table in TRACKED:
        if table != "conversation" and actor & owners.admins:
            continue  # the admin may act on anything but other people's menus
        old, new = before[table], after[table]
        for k in old.keys() | new.keys():
            a, b = old.get(k), new.get(k)
            if a == b:
                continue
            if table == "conversation":
                ok = k == key
            elif table == "booking" and _lapsed_hold(a, b, now):
                ok = True
            else:
                stake = set().union(*(owners.of(table, r) for r in (a, b) if r is not None))
                ok = bool(actor & stake)
            if not ok:
                wrong.append(f"{table} {k}: {a} -> {b}")
    return wrong
