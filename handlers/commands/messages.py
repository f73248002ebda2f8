"""/messages: the inbox (each conversation with its unread count and last line), one
conversation's history page by page, the student-messaging switch; /block and /unblock."""

from __future__ import annotations

from core.errors import InvalidInput
from core.messaging import ThreadPage, history, list_threads, set_peer_messages, unread_count
from core.moderation import block, list_blocked, unblock
from core.timezone import format_local
from handlers import payload
from handlers.context import Ctx
from handlers.registry import Command
from handlers.reply import Button, Reply, clip, rows_of
from handlers.turn import parse_id

PER_PAGE = 6  # three rows of two
HISTORY_BUDGET = 1700  # characters of history per reply (a reply holds 2,000)
USAGE = "Use the buttons, or send /messages on its own for your conversations."


def _peer_button(ctx: Ctx) -> Button:
    on = ctx.user.peer_messages
    return Button(f"💬 Other students may message me: {'on' if on else 'off'}",
                  action=payload.command("messages", f"peer {'off' if on else 'on'}"))


async def inbox(ctx: Ctx, page: int = 1, note: str | None = None) -> list[Reply]:
    threads, total = await list_threads(ctx.uow, ctx.user, limit=PER_PAGE,
                                        offset=(page - 1) * PER_PAGE)
    head = f"{note}\n\n" if note else ""
    new = Button("✉️ New message", action=payload.command("message"))
    if not threads:
        return [Reply(head + "📥 No conversations yet. Send /message to write to your "
                      "teacher, your students, a course's creator or the admin.",
                      ((_peer_button(ctx),), (new,)), replace=ctx.clicked)]
    unread = await unread_count(ctx.uow, ctx.user.id)
    lines = [f"📥 Your conversations ({unread} unread):"]
    buttons = []
    for t in threads:
        who = "You: " if t.last.sender_id == ctx.user.id else ""
        badge = f" · {t.unread} new" if t.unread else ""
        lines.append(f"• {t.other.display_name}{badge} — {who}"
                     f"{clip(' '.join(t.last.body.split()), 90)}")
        buttons.append(Button(clip(f"{'🔵 ' if t.unread else ''}{t.other.display_name}"
                                   f"{f' ({t.unread})' if t.unread else ''}", 40),
                              action=payload.command("messages", f"t{t.thread_id}")))
    nav = []
    if page > 1:
        nav.append(Button("‹ Newer", action=payload.command("messages", f"p{page - 1}")))
    if page * PER_PAGE < total:
        nav.append(Button("Older ›", action=payload.command("messages", f"p{page + 1}")))
    rows = [*rows_of(buttons, 2), *((tuple(nav),) if nav else ()), (_peer_button(ctx), new)]
    return [Reply(head + clip("\n".join(lines), 1800), tuple(rows), replace=ctx.clicked)]


def _history_text(ctx: Ctx, page: ThreadPage) -> tuple[str, int]:
    """The page's newest messages that fit, newest last, and how many that is."""
    lines: list[str] = []
    used = 0
    for m in reversed(page.messages):
        who = "You" if m.sender_id == ctx.user.id else page.other.display_name
        when = format_local(m.created_at, ctx.user.timezone)
        line = f"{when} {who}{' 📣' if m.broadcast_id else ''}: {clip(m.body, 600)}"
        if used + len(line) > HISTORY_BUDGET:
            break
        lines.append(line)
        used += len(line) + 1
    return "\n".join(reversed(lines)), len(lines)


async def conversation(ctx: Ctx, thread_id: int, before: int | None = None) -> list[Reply]:
    page = await history(ctx.uow, ctx.user, thread_id, before=before)
    other = page.other
    text, shown = _history_text(ctx, page)
    cut = 0 < shown < len(page.messages)
    older = page.messages[-shown].id if cut else page.older
    rows: list[tuple[Button, ...]] = [(
        Button("↩ Reply", action=payload.command("message", str(other.id))),
        Button("🚫 Block", action=payload.command("block", str(other.id))))]
    theirs = [m for m in page.messages if m.sender_id == other.id]
    if theirs:
        rows[0] += (Button("⚠️ Report", action=payload.command("report", str(theirs[-1].id))),)
    if older is not None:
        rows.append((Button("‹ Older messages",
                            action=payload.command("messages", f"t{thread_id} o{older}")),))
    rows.append((Button("📥 Inbox", action=payload.command("messages")),))
    return [Reply(f"💬 {other.display_name} (#{other.id})\n\n{text or 'No messages yet.'}",
                  tuple(rows), replace=ctx.clicked)]


async def messages(ctx: Ctx, args: str) -> list[Reply]:
    words = args.split()
    if not words:
        return await inbox(ctx)
    if len(words) == 2 and words[0] == "peer" and words[1] in ("on", "off"):
        set_peer_messages(ctx.user, words[1] == "on")
        note = ("✅ Other students who turned this on too may now message you." if
                ctx.user.peer_messages else "✅ Other students can no longer message you "
                "(people you already talk with can still answer).")
        return await inbox(ctx, note=note)
    first = words[0]
    number = parse_id(first[1:]) if len(first) > 1 else None
    if first[0] == "p" and number is not None and len(words) == 1:
        return await inbox(ctx, page=number)
    older = parse_id(words[1][1:]) if len(words) == 2 and words[1][:1] == "o" else None
    if first[0] == "t" and number is not None and (len(words) == 1 or older is not None):
        return await conversation(ctx, number, older)
    raise InvalidInput(USAGE)


COMMAND = Command("messages", "Your conversations: read and answer messages", handler=messages)


async def block_someone(ctx: Ctx, args: str) -> list[Reply]:
    person_id = parse_id(args)
    if person_id is None:
        raise InvalidInput("Whom? Tap 🚫 Block under one of their messages.")
    person = await block(ctx.uow, ctx.user, person_id)
    return [Reply(f"🚫 Blocked {person.display_name}: they can't message you any more. "
                  f"/unblock {person.id} undoes it.",
                  ((Button("↩ Undo", action=payload.command("unblock", str(person.id))),),),
                  tone="success", replace=ctx.clicked)]


BLOCK = Command("block", "Stop someone messaging you", handler=block_someone,
                args_hint="<number>", hidden=True)


async def unblock_someone(ctx: Ctx, args: str) -> list[Reply]:
    if args.strip():
        person_id = parse_id(args)
        if person_id is None:
            raise InvalidInput("Use /unblock <number>, or /unblock on its own for the list.")
        person = await unblock(ctx.uow, ctx.user, person_id)
        return [Reply(f"✅ Unblocked {person.display_name}: they may message you again.",
                      tone="success", replace=ctx.clicked)]
    blocked = await list_blocked(ctx.uow, ctx.user)
    if not blocked:
        return [Reply("You haven't blocked anyone.", replace=ctx.clicked)]
    shown = blocked[:10]
    lines = ["🚫 People you blocked:", *(f"• {u.display_name} (#{u.id})" for u in shown)]
    if len(blocked) > len(shown):
        lines.append(f"…and {len(blocked) - len(shown)} more: /unblock <number>.")
    buttons = [Button(clip(f"Unblock {u.display_name}", 40),
                      action=payload.command("unblock", str(u.id))) for u in shown]
    return [Reply("\n".join(lines), rows_of(buttons, 2), replace=ctx.clicked)]


UNBLOCK = Command("unblock", "Let someone you blocked message you again",
                  handler=unblock_someone, args_hint="[number]")
COMMANDS = (COMMAND, BLOCK, UNBLOCK)
