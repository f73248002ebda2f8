"""/interests: the topics someone is curious about, picked with toggle buttons (at the end
of onboarding and from /profile). Each button says what it does ("+music", "-music"), so a
double click leaves the same choice rather than undoing it."""

from __future__ import annotations

from core.profile import INTERESTS, find_profile, interest_names, set_interest
from handlers import payload
from handlers.context import Ctx
from handlers.display import menu_buttons
from handlers.registry import Command
from handlers.reply import Button, Reply, rows_of

ICONS = {"code": "💻", "languages": "🗣", "maths": "➗", "science": "🔬", "data": "📊",
         "business": "💼", "design": "🎨", "writing": "✍️", "music": "🎵", "wellbeing": "🧘"}
PER_ROW = 4
ASK = ("🎯 What are you curious about? Tap the topics that fit — tap again to remove one. "
       "We use them to suggest courses and teachers, never your private chats.")


def topic_rows(chosen: list[str]) -> tuple[tuple[Button, ...], ...]:
    """Toggle buttons for every topic: ✅ marks the chosen ones."""
    buttons = [
        Button(f"✅ {name}" if key in chosen else f"{ICONS.get(key, '▫️')} {name}",
               action=payload.command("interests", f"{'-' if key in chosen else '+'}{key}"))
        for key, name in INTERESTS.items()
    ]
    return rows_of(buttons, PER_ROW)


async def _chosen(ctx: Ctx) -> list[str]:
    profile = await find_profile(ctx.uow, ctx.user.id)
    return list(profile.interests or []) if profile else []


def picker(chosen: list[str], *, note: str = "", replace: bool = False) -> Reply:
    names = interest_names(chosen)
    now = f"\nChosen: {', '.join(names)}" if names else ""
    return Reply(
        f"{note}\n\n{ASK}{now}" if note else ASK + now,
        (*topic_rows(chosen),
         (Button("✔️ Done", action=payload.command("interests", "done")),)),
        replace=replace,
    )


async def show_interests(ctx: Ctx, args: str) -> list[Reply]:
    wanted = args.strip().lower()
    if wanted == "done":
        names = interest_names(await _chosen(ctx))
        text = (f"✅ Saved. Your interests: {', '.join(names)}." if names
                else "No interests picked — you can add some any time from /profile.")
        return [Reply(text + "\nWhat would you like to do?", menu_buttons(),
                      replace=ctx.clicked, tone="success")]
    if wanted[:1] in ("+", "-") and wanted[1:] in INTERESTS:
        chosen = await set_interest(ctx.uow, ctx.user, wanted[1:], wanted[0] == "+")
        return [picker(chosen, replace=ctx.clicked)]
    note = "⚠️ Please tap one of the topics below." if wanted else ""
    return [picker(await _chosen(ctx), note=note, replace=ctx.clicked)]


# Reached from onboarding and /profile (typing it works too).
COMMAND = Command("interests", "Pick the topics you're curious about", handler=show_interests,
                  hidden=True)
