"""/review <session> [stars]: rate a finished session, say what was covered, and comment.

Offered as star buttons right after someone confirms a session happened.
"""

from __future__ import annotations

from core.errors import DomainError, InvalidInput
from core.models import User
from core.review import STARS, clean_note, record_review, reviewable, star_label
from handlers.context import Ctx
from handlers.flow import Choice, Finish, Flow, Input, Next, Outcome, Prompt, Reject, Step
from handlers.registry import Command
from handlers.reply import Reply
from handlers.turn import parse_id

SKIP = "skip"


def stars_bar(stars: int) -> str:
    return "★" * stars + "☆" * (5 - stars)


def star_rows() -> tuple[tuple[Choice, ...], ...]:
    return (tuple(Choice(star_label(n), str(n)) for n in STARS),)


async def on_start(ctx: Ctx, args: str) -> Finish | None:
    words = args.split()
    booking_id = parse_id(words[0]) if words else None
    if booking_id is None or len(words) > 2:
        raise InvalidInput("Use the star buttons under “How did it go?” to review a session.")
    booking = await reviewable(ctx.uow, ctx.user, booking_id)
    other = await ctx.uow.session.get(
        User, booking.teacher_id if ctx.user.id == booking.student_id else booking.student_id)
    ctx.data.update(booking_id=booking.id, other=other.display_name if other else "them",
                    as_student=ctx.user.id == booking.student_id)
    if len(words) == 2:
        stars = parse_id(words[1])
        if stars not in STARS:
            raise InvalidInput("Pick 1 to 5 stars with the buttons.")
        ctx.data["stars"] = stars
    return None


async def ask_stars(ctx: Ctx) -> Prompt:
    whom = "the session with" if ctx.data["as_student"] else "how it went for"
    return Prompt(f"How many stars for {whom} {ctx.data['other']} (session "
                  f"#{ctx.data['booking_id']})?", star_rows())


async def on_stars(ctx: Ctx, inp: Input) -> Outcome:
    stars = parse_id(inp.value or inp.text or "")
    if stars not in STARS:
        return Reject("Tap 1★ to 5★.")
    ctx.data["stars"] = stars
    return Next()


async def ask_covered(ctx: Ctx) -> Prompt:
    return Prompt(f"{stars_bar(int(ctx.data['stars']))} — thanks! What did you cover? "
                  "Type a line (both of you can look back at it later), or skip.",
                  ((Choice("Skip", SKIP),),))


def _note(inp: Input, what: str, most: int) -> str | None:
    if inp.value == SKIP:
        return None
    return clean_note(inp.text, what, most)


async def on_covered(ctx: Ctx, inp: Input) -> Outcome:
    try:
        ctx.data["covered"] = _note(inp, "summary", 500)
    except DomainError as exc:
        return Reject(exc.user_message)
    return Next()


async def ask_comment(ctx: Ctx) -> Prompt:
    about = "teacher" if ctx.data["as_student"] else "student"
    return Prompt(f"Anything to say about your {about}? A comment helps others choose "
                  "(or skip).", ((Choice("Skip", SKIP),),))


async def on_comment(ctx: Ctx, inp: Input) -> Outcome:
    try:
        comment = _note(inp, "comment", 1000)
        review = await record_review(
            ctx.uow, ctx.user, int(ctx.data["booking_id"]), stars=int(ctx.data["stars"]),
            covered=ctx.data.get("covered"), comment=comment)
    except InvalidInput as exc:
        return Reject(exc.user_message)
    return Finish((Reply(f"✅ Review saved for session #{review.booking_id}: "
                         f"{stars_bar(review.stars)}. Thank you!", tone="success",
                         replace=ctx.clicked),))


FLOW = Flow(
    "review",
    (
        Step("stars", ask_stars, on_stars, skip=lambda ctx: "stars" in ctx.data),
        Step("covered", ask_covered, on_covered, free_text=True),
        Step("comment", ask_comment, on_comment, free_text=True),
    ),
    start=on_start,
    title="reviewing",
)

COMMAND = Command("review", "Rate a finished session", flow=FLOW, hidden=True,
                  args_hint="<session> [stars]")
