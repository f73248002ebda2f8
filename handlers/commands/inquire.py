"""/inquire <course>: ask the course's creator a question; they answer by email. Open to
anyone, even before onboarding (a visitor deciding whether to join)."""

from __future__ import annotations

from core.catalogue import get_published_course
from core.errors import DomainError, InvalidInput
from core.inquiry import clean_question, submit_inquiry, verified_address
from core.mail import clean_address
from core.models import User
from handlers.commands.refer import course_number
from handlers.context import Ctx
from handlers.flow import Finish, Flow, Input, Next, Outcome, Prompt, Reject, Step
from handlers.registry import Command
from handlers.reply import Reply

USAGE = "Which course? Use /inquire <course number>, or the ❓ button on a course card."


async def inquire_start(ctx: Ctx, args: str) -> Finish | None:
    if not args.strip():
        raise InvalidInput(USAGE)
    course = await get_published_course(ctx.uow, await course_number(ctx, args.strip()))
    creator = await ctx.uow.session.get(User, course.creator_id)
    ctx.data.update(course_id=course.id, title=course.title,
                    creator=creator.display_name if creator else "the creator",
                    email=await verified_address(ctx.uow, ctx.user.id) or "")
    return None


async def ask_email(ctx: Ctx) -> Prompt:
    return Prompt(f"❓ A question about {ctx.data['title']} for {ctx.data['creator']}, who "
                  "made it.\nThey answer by email: what's your email address?")


async def on_email(ctx: Ctx, inp: Input) -> Outcome:
    try:
        ctx.data["email"] = clean_address(inp.text)
    except InvalidInput as exc:
        return Reject(exc.user_message)
    return Next()


async def ask_question(ctx: Ctx) -> Prompt:
    return Prompt(f"What would you like to ask {ctx.data['creator']} about "
                  f"{ctx.data['title']}? Type your question (they'll reply to "
                  f"{ctx.data['email']}).")


def _name(user: User) -> str:
    # Chat names may carry invisible characters the inquiry's name field refuses.
    return "".join(c for c in user.display_name if c.isprintable()).strip() or "Someone"


async def on_question(ctx: Ctx, inp: Input) -> Outcome:
    try:
        question = clean_question(inp.text)
    except InvalidInput as exc:
        return Reject(exc.user_message)
    try:
        await submit_inquiry(ctx.uow, int(ctx.data["course_id"]), _name(ctx.user),
                             ctx.data["email"], question, "chat", ctx.user)
    except DomainError as exc:  # the limit, or the course closed meanwhile: nothing to retry
        return Finish((Reply(exc.user_message, tone="warning"),))
    return Finish((Reply(f"✓ Sent to {ctx.data['creator']}. They'll answer by email at "
                         f"{ctx.data['email']}.", tone="success"),))


FLOW = Flow("inquire", (
    Step("email", ask_email, on_email, skip=lambda ctx: bool(ctx.data.get("email")),
         free_text=True),
    Step("question", ask_question, on_question, free_text=True),
), start=inquire_start, title="asking a question")

COMMAND = Command("inquire", "Ask a course's creator a question (answered by email)",
                  flow=FLOW, needs_onboarding=False, args_hint="<course>")
