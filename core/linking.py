"""One person, several platforms: one-time codes that join identities into one account."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from core.account_merge import prepare_merge
from core.db import Base
from core.errors import DomainError, InvalidInput
from core.models import CourseTeacher, Identity, LinkCode, User, UserRole
from core.uow import UnitOfWork

CODE_TTL = timedelta(minutes=10)
# No 0/O, 1/I/L: codes are read off one screen and typed on another.
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
PLATFORM_NAMES = {
    "telegram": "Telegram",
    "discord": "Discord",
    "terminal": "the terminal",
    "test": "the test chat",
    "test2": "the second test chat",
}


class LinkRefused(DomainError):
    code = "link_refused"
    template = "{reason}"


def platform_name(platform: str) -> str:
    return PLATFORM_NAMES.get(platform, platform.capitalize())


def _normalise(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


async def create_link_code(uow: UnitOfWork, user: User, platform: str) -> LinkCode:
    """A fresh code for ``user``; earlier unused codes stop working."""
    now = uow.clock.now()
    await uow.session.execute(
        delete(LinkCode).where(LinkCode.user_id == user.id, LinkCode.used_at.is_(None))
    )
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    code = LinkCode(
        code=raw, user_id=user.id, platform=platform, created_at=now, expires_at=now + CODE_TTL
    )
    uow.session.add(code)
    return code


def format_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


async def redeem_link_code(uow: UnitOfWork, user: User, platform: str, typed: str) -> User:
    """Join the account ``user`` (acting on ``platform``) into the code owner's account."""
    raw = _normalise(typed)
    if len(raw) != 8:
        raise InvalidInput(
            "Link codes look like ABCD-2345. Send /link on your other app to get one."
        )
    code = await uow.session.get(LinkCode, raw, with_for_update=True)
    now = uow.clock.now()
    if code is None or code.used_at is not None or code.expires_at <= now:
        raise LinkRefused(
            reason="That code is wrong, used or expired (codes last 10 "
            "minutes). Send /link on your other app for a new one."
        )
    if code.user_id == user.id:
        raise LinkRefused(reason="Send this code from your other app, not this one.")
    owner = await uow.session.get(User, code.user_id)
    assert owner is not None
    owned = set(
        (
            await uow.session.scalars(
                select(Identity.platform).where(Identity.user_id == owner.id)
            )
        ).all()
    )
    mine = set(
        (
            await uow.session.scalars(select(Identity.platform).where(Identity.user_id == user.id))
        ).all()
    )
    if owned & mine:
        names = ", ".join(sorted(platform_name(p) for p in owned & mine))
        raise LinkRefused(
            reason=f"That account already has a {names} identity; an account can hold one per app."
        )
    code.used_at = now
    await _merge(uow, source=user, target=owner)
    return owner


async def _merge(uow: UnitOfWork, *, source: User, target: User) -> None:
    """Move everything ``source`` owns to ``target`` and delete ``source``."""
    session = uow.session
    for role in list(source.roles):
        if role.role not in target.role_names:
            target.roles.append(UserRole(role=role.role, granted_at=role.granted_at))
    await session.execute(delete(UserRole).where(UserRole.user_id == source.id))
    taught = select(CourseTeacher.course_id).where(CourseTeacher.teacher_id == target.id)
    await session.execute(
        delete(CourseTeacher).where(
            CourseTeacher.teacher_id == source.id, CourseTeacher.course_id.in_(taught)
        )
    )
    if target.onboarded_at is None and source.onboarded_at is not None:
        target.onboarded_at, target.timezone = source.onboarded_at, source.timezone
    target.origin = target.origin or source.origin
    await session.flush()
    await prepare_merge(uow, source=source, target=target)
    try:
        async with session.begin_nested():
            # Every column that points at an account follows the person, whatever the table.
            for table in Base.metadata.sorted_tables:
                for fk in table.foreign_keys:
                    if fk.column.table.name == User.__tablename__ and table.name != "user_role":
                        await session.execute(
                            update(table)
                            .where(fk.parent == source.id)
                            .values({fk.parent.name: target.id})
                        )
            await session.flush()
    except IntegrityError:
        raise LinkRefused(
            reason="Both accounts have sessions at overlapping times (or with "
            "each other). Cancel one of them, then link again."
        ) from None
    session.expunge(source)  # with its roles; nothing may reload it once its row is gone
    await session.execute(delete(User).where(User.id == source.id))
