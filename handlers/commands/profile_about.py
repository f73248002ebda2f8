"""The "about me" fields of /profile: bio, links, picture, documents, and who sees what.
Each consumer returns None once the change is saved (the caller shows the profile card)."""

from __future__ import annotations

from core.errors import DomainError
from core.linking import platform_name
from core.profile import (
    MAX_BIO,
    MAX_DOCUMENTS,
    MAX_LINKS,
    SECTION_NAMES,
    SECTIONS,
    add_document,
    clear_bio,
    clear_links,
    clear_picture,
    find_profile,
    remove_document,
    set_all_private,
    set_bio,
    set_links,
    set_picture,
    set_private,
)
from handlers.context import Ctx
from handlers.flow import Choice, Input, Outcome, Prompt, Reject, Stay
from handlers.reply import clip, rows_of
from handlers.turn import parse_id

ABOUT_FIELDS = ("bio", "links", "picture", "documents")
CLEAR = "clear"
DONE = "done"
ALL_PRIVATE = "all:1"
ALL_PUBLIC = "all:0"


async def ask_about(ctx: Ctx, field: str) -> Prompt:
    profile = await find_profile(ctx.uow, ctx.user.id)
    if field == "bio":
        bio = profile.bio if profile else ""
        return Prompt(
            f"📝 Tell people about yourself in up to {MAX_BIO} characters: what you're "
            "learning, teaching or love." + (f"\nNow: {clip(bio, 300)}" if bio else "")
            + "\nType your bio:",
            ((Choice("🗑 Clear bio", CLEAR),),) if bio else ())
    if field == "links":
        links = list(profile.links or []) if profile else []
        return Prompt(
            f"🌐 Type up to {MAX_LINKS} links (your website, GitHub, LinkedIn…) separated by "
            "spaces; they replace the ones you have."
            + (f"\nNow: {' '.join(clip(x, 60) for x in links)}" if links else ""),
            ((Choice("🗑 Remove all links", CLEAR),),) if links else ())
    if field == "picture":
        where = profile.picture_platform if profile and profile.picture_ref else None
        return Prompt(
            "🖼 Send a photo of yourself (as a photo, not as a file). It shows on your "
            "profile card." + (f"\nYour picture now lives on {platform_name(where)}."
                               if where else ""),
            ((Choice("🗑 Remove picture", CLEAR),),) if where else ())
    docs = list(profile.documents or []) if profile else []
    listed = "\n".join(f"{i}. {clip(str(d.get('name')), 60)}" for i, d in enumerate(docs, 1))
    removes = [Choice(clip(f"🗑 {i}. {d.get('name')}", 40), f"rm:{i}")
               for i, d in enumerate(docs, 1)]
    return Prompt(
        f"📄 Documents on your profile ({len(docs)} of {MAX_DOCUMENTS}):\n"
        + (listed or "none yet") + "\n\nSend a file (a CV, a certificate, a portfolio) to "
        "add it, or tap one to remove it.",
        (*rows_of(removes, 3), (Choice("✔️ Done", DONE),)))


async def on_about(ctx: Ctx, field: str, inp: Input) -> Outcome | None:
    try:
        return await _consume(ctx, field, inp)
    except DomainError as exc:
        return Reject(exc.user_message)


async def _consume(ctx: Ctx, field: str, inp: Input) -> Outcome | None:
    user, attachment = ctx.user, inp.attachment
    if field == "documents":
        if attachment is not None:
            doc = await add_document(ctx.uow, user, name=attachment.name, ref=attachment.file_ref,
                                     platform=ctx.turn.platform, kind=attachment.kind)
            return Stay(note=f"📄 Added {doc['name']}.")
        number = parse_id(inp.value[3:]) if inp.value and inp.value.startswith("rm:") else None
        if number is not None:
            return Stay(note=f"🗑 Removed {await remove_document(ctx.uow, user, number)}.")
        if inp.value == DONE:
            return None
        return Reject("Send a file to add it, or tap a button below.")
    if field == "picture":
        if inp.value == CLEAR:
            await clear_picture(ctx.uow, user)
        elif attachment is not None and attachment.kind == "photo":
            await set_picture(ctx.uow, user, attachment.file_ref, ctx.turn.platform)
        elif attachment is not None:
            return Reject("That came as a file. Please send the picture as a photo.")
        else:
            return Reject("Please send a photo of yourself — or tap Cancel.")
        return None
    if attachment is not None:
        return Reject(f"Please type your {field} as text.")
    if inp.value == CLEAR:
        await (clear_bio if field == "bio" else clear_links)(ctx.uow, user)
    elif field == "bio":
        await set_bio(ctx.uow, user, inp.text)
    else:
        await set_links(ctx.uow, user, inp.text)
    return None


async def ask_privacy(ctx: Ctx) -> Prompt:
    profile = await find_profile(ctx.uow, ctx.user.id)
    hidden = set(profile.private or []) if profile else set()
    toggles = [Choice(f"{'🔒' if s in hidden else '🌐'} {SECTION_NAMES[s]}", f"t:{s}")
               for s in SECTIONS]
    return Prompt(
        "🔒 Who sees what? 🌐 public sections show on your card to everyone; 🔒 private ones "
        "only to you. Your name is always shown. Tap a section to switch it.",
        (*rows_of(toggles, 3),
         (Choice("🔒 All private", ALL_PRIVATE), Choice("🌐 All public", ALL_PUBLIC),
          Choice("✔️ Done", DONE))))


async def on_privacy(ctx: Ctx, inp: Input) -> Outcome | None:
    value = inp.value or ""
    if value == DONE:
        return None
    if value in (ALL_PRIVATE, ALL_PUBLIC):
        await set_all_private(ctx.uow, ctx.user, value == ALL_PRIVATE)
        return Stay(note="🔒 Everything is private: others see only your name."
                    if value == ALL_PRIVATE else "🌐 Everything is public.")
    section = value[2:] if value.startswith("t:") else ""
    if section not in SECTIONS:
        return Reject("Tap a section to make it public or private.")
    profile = await find_profile(ctx.uow, ctx.user.id)
    private = not (profile and section in (profile.private or []))
    await set_private(ctx.uow, ctx.user, section, private)
    return Stay(note=f"{SECTION_NAMES[section]}: {'🔒 private' if private else '🌐 public'}.")
