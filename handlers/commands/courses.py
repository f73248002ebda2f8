"""/courses: what can be learned, searched by words and filtered by level, price and creator
(typed, e.g. ``/courses python level:beginner max:50 by:ada``, or through filter buttons),
with details, book and free-intro buttons per course.

Filters live in the button payloads (no state is kept), so a browse is written in a short
canonical form that fits Telegram's 64-byte callback data."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from decimal import Decimal

from core.catalogue import CourseQuery, Listing, list_creators, search_courses
from core.errors import InvalidInput
from core.models.catalogue import LEVELS
from handlers import payload
from handlers.context import Ctx
from handlers.registry import Command
from handlers.reply import MAX_PAYLOAD_BYTES, Button, Reply, clip
from handlers.turn import parse_id

PAGE = 4  # a row each, and a row for filters and pages
PRICE_STEPS = ("25", "50", "100")
PANEL = "filters"
ROOM = MAX_PAYLOAD_BYTES - len(payload.command("courses").encode())
_PRICE = re.compile(r"^\d{1,7}(\.\d{1,2})?$")
LEVEL_HELP = "Levels are beginner, intermediate and advanced — e.g. /courses level:beginner"
PRICE_HELP = "Write a top price like max:50 (in the course's own currency)."


@dataclass(frozen=True)
class Browse:
    """One look at the catalogue: search words, filters, page, and whether the filter
    panel is open. ``by`` is part of a creator's name, or their number."""

    words: tuple[str, ...] = ()
    level: str | None = None
    most: str | None = None
    by: str | None = None
    page: int = 1
    panel: bool = False

    @property
    def filtered(self) -> bool:
        return any(x is not None for x in (self.level, self.most, self.by))

    def query(self) -> CourseQuery:
        creator_id = parse_id(self.by) if self.by else None
        return CourseQuery(
            words=self.words, level=self.level,
            max_price=Decimal(self.most) if self.most else None,
            creator=self.by if self.by and creator_id is None else None,
            creator_id=creator_id)


def _level(value: str) -> str | None:
    if value in ("", "any"):
        return None
    found = [lv for lv in LEVELS if lv.startswith(value)]
    if len(found) != 1:
        raise InvalidInput(LEVEL_HELP)
    return found[0]


def _price(value: str) -> str | None:
    value = value.lstrip("$€£¥")
    if value in ("", "any"):
        return None
    if not value.isascii() or not _PRICE.match(value):
        raise InvalidInput(PRICE_HELP)
    return value


def parse(args: str) -> Browse:
    """``python level:beg max:50 by:ada 2`` → words, level, top price, creator, page."""
    tokens = [t for t in ("".join(c for c in args if c.isprintable())).split() if t][:12]
    b = Browse()
    if tokens and tokens[-1] == PANEL:
        b, tokens = replace(b, panel=True), tokens[:-1]
    elif tokens and tokens[-2:-1] != ["under"] and (page := parse_id(tokens[-1])) is not None:
        b, tokens = replace(b, page=min(page, 999)), tokens[:-1]
    words: list[str] = []
    pending_price = False
    for token in tokens:
        key, colon, value = token.partition(":")
        key = key.lower()
        if pending_price:
            b, pending_price = replace(b, most=_price(token.lower())), False
        elif colon and key in ("level", "lvl"):
            b = replace(b, level=_level(value.lower()))
        elif colon and key in ("max", "under", "price"):
            b = replace(b, most=_price(value.lower()))
        elif colon and key == "by":
            b = replace(b, by=value[:12] if value.lower() not in ("", "any") else None)
        elif token.lower() == "under":
            pending_price = True
        else:
            words.append(token[:40])
    if pending_price:
        raise InvalidInput(PRICE_HELP)
    return replace(b, words=tuple(words[:6]))


def encode(b: Browse, *, page: int = 1, panel: bool = False) -> str:
    """The browse as command arguments that fit a button (search words give way first)."""
    tail = [f"level:{b.level[:3]}" if b.level else "", f"max:{b.most}" if b.most else "",
            f"by:{b.by}" if b.by else "", PANEL if panel else (str(page) if page > 1 else "")]
    words = list(b.words)
    while True:
        line = " ".join(x for x in (*words, *tail) if x)
        if len(line.encode()) <= ROOM or not words:
            return line if len(line.encode()) <= ROOM else " ".join(x for x in tail if x)
        words.pop()


def filters_text(b: Browse, listings: list[Listing]) -> str:
    """``beginner · up to 50 · by Ada`` (empty when no filter is set)."""
    parts = [b.level or "", f"up to {b.most}" if b.most else ""]
    if b.by:
        named = parse_id(b.by) is not None and bool(listings)
        parts.append(f"by {listings[0].creator_name if named else clip(b.by, 20)}")
    return " · ".join(p for p in parts if p)


def describe(b: Browse, listings: list[Listing]) -> str:
    """`` matching “python” · beginner · up to 50 · by Ada`` (empty when nothing is set)."""
    said = f" matching “{clip(' '.join(b.words), 40)}”" if b.words else ""
    filters = filters_text(b, listings)
    return said + (f" · {filters}" if filters else "")


def _course_row(listing: Listing) -> tuple[Button, ...]:
    course = listing.course
    return (
        Button(clip(f"ℹ️ {course.title}", 80),
               action=payload.command("coursecard", str(course.id))),
        Button(clip(f"🗓 Book {course.title}", 80),
               action=payload.command("book", str(course.id))),
        Button("🎁 Free intro", action=payload.command("intro", str(course.id))),
    )


def _controls(b: Browse, page: int, pages: int) -> tuple[Button, ...]:
    row = []
    if page > 1:
        row.append(Button("‹ Previous", action=payload.command(
            "courses", encode(b, page=page - 1))))
    row.append(Button("🔎 Filter", action=payload.command("courses", encode(b, panel=True))))
    if b.filtered:
        row.append(Button("✖ Clear filters", action=payload.command(
            "courses", encode(Browse(words=b.words)))))
    if page < pages:
        row.append(Button("More ›", action=payload.command(
            "courses", encode(b, page=page + 1))))
    return tuple(row)


async def _panel(ctx: Ctx, b: Browse, found: list[Listing]) -> list[Reply]:
    """Filter buttons; each keeps the panel open with the change made, ✅ on what's set."""
    def pick(label: str, on: bool, changed: Browse) -> Button:
        return Button(("✅ " if on else "") + label,
                      action=payload.command("courses", encode(changed, panel=True)))

    levels = tuple(pick(lv.capitalize(), b.level == lv, replace(b, level=lv)) for lv in LEVELS)
    prices = tuple(pick(f"Up to {p}", b.most == p, replace(b, most=p)) for p in PRICE_STEPS)
    creators = tuple(pick(clip(f"by {name}", 40), b.by == str(i), replace(b, by=str(i)))
                     for i, name in await list_creators(ctx.uow, limit=4))
    rows = [
        (*levels, pick("Any level", b.level is None, replace(b, level=None))),
        (*prices, pick("Any price", b.most is None, replace(b, most=None))),
        *(((*creators, pick("Anyone", b.by is None, replace(b, by=None))),)
          if creators else ()),
        (Button(f"✔️ Show {len(found)} course{'s' if len(found) != 1 else ''}",
                action=payload.command("courses", encode(b))),),
    ]
    search = f"\nSearch: “{clip(' '.join(b.words), 40)}”" if b.words else ""
    setting = filters_text(b, found) or "none yet"
    return [Reply(f"🔎 Filter courses — {len(found)} match{'es' if len(found) != 1 else ''}."
                  f"{search}\nFilters: {setting}\nPrices are in each course's own currency.",
                  tuple(rows), replace=ctx.clicked)]


async def show_courses(ctx: Ctx, args: str) -> list[Reply]:
    b = parse(args[:200])
    found = await search_courses(ctx.uow, b.query())
    if b.panel:
        return await _panel(ctx, b, found)
    said = describe(b, found)
    if not found:
        if b.words or b.filtered:
            text = (f"No course matches{said.replace(' matching', '')}. Try other words"
                    f"{' or fewer filters' if b.filtered else ''}, or /courses to see them all.")
            return [Reply(text, (_controls(b, 1, 1),), replace=ctx.clicked)]
        return [Reply("No courses are open yet — check back soon.", replace=ctx.clicked)]
    pages = (len(found) + PAGE - 1) // PAGE
    page = min(b.page, pages)
    shown = found[(page - 1) * PAGE : page * PAGE]
    lines = [f"📚 Courses{said}{f' (page {page} of {pages})' if pages > 1 else ''}:"]
    for x in shown:
        course = x.course
        blurb = clip(course.description.split("\n", 1)[0], 120)
        lines.append(
            f"\n{course.title} · {course.level} · {course.price} per "
            f"{course.session_minutes}-min session · "
            f"{x.teachers} teacher{'s' if x.teachers != 1 else ''} · by {x.creator_name}"
            f"\n{blurb}")
    rows = [*(_course_row(x) for x in shown), _controls(b, page, pages)]
    return [Reply(clip("\n".join(lines)), tuple(rows), replace=ctx.clicked)]


COMMAND = Command(
    "courses",
    "Browse courses (filters: level:, max:, by:)",
    handler=show_courses,
    args_hint="[search]",
    needs_onboarding=False,  # visitors may look before they sign up
)
