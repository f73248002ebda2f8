"""Accounts: find or create people by platform identity, onboarding, roles, timezones."""

from __future__ import annotations

from functools import cache

from sqlalchemy import Select, and_, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from core.conversation import ConversationKey, remember_conversation
from core.db import is_valid_id
from core.errors import InvalidInput, NotFound
from core.models import Conversation, Identity, User, UserRole
from core.models.account import ROLES
from core.text import clean_line, clean_name
from core.timezone import parse_timezone
from core.uow import UnitOfWork

SELF_SERVICE_ROLES = ("student", "funder")


async def find_user_by_identity(uow: UnitOfWork, platform: str, external_id: str) -> User | None:
    stmt = (
        select(User)
        .join(Identity, Identity.user_id == User.id)
        .where(Identity.platform == platform, Identity.external_id == external_id)
    )
    return (await uow.session.scalars(stmt)).one_or_none()


@cache
def _turn_query() -> Select[User, Conversation]:
    """Built once (every turn runs it): the parameters are bound per call."""
    return (
        select(User, Conversation)
        .join(Identity, Identity.user_id == User.id)
        .outerjoin(Conversation, and_(Conversation.platform == bindparam("c_platform"),
                                      Conversation.chat_key == bindparam("c_chat"),
                                      Conversation.user_key == bindparam("c_user")))
        .where(Identity.platform == bindparam("platform"),
               Identity.external_id == bindparam("external_id"))
        .options(joinedload(User.roles))
    )


async def load_for_turn(uow: UnitOfWork, platform: str, external_id: str,
                        conversation: ConversationKey) -> User | None:
    """The account behind an identity with its roles and its flow state row, in one
    statement (the state is remembered for the turn: core.conversation reads it from there;
    two turns racing on it are told apart by its version, see the Conversation model)."""
    platform_key, chat_key, user_key = conversation
    row = (await uow.session.execute(_turn_query(), {
        "platform": platform, "external_id": external_id, "c_platform": platform_key,
        "c_chat": chat_key, "c_user": user_key})).unique().one_or_none()
    if row is None:
        return None
    user, state = row
    remember_conversation(uow, conversation, state)
    return user


async def get_user(uow: UnitOfWork, user_id: int) -> User:
    """Anyone by id; an id that can't exist reads as not found (never reaches SQL)."""
    user = await uow.session.get(User, user_id) if is_valid_id(user_id) else None
    if user is None:
        raise NotFound("person")
    return user


async def ensure_user(uow: UnitOfWork, platform: str, external_id: str, display_name: str,
                      conversation: ConversationKey | None = None) -> User:
    """The account behind this identity, created on first contact (with ``conversation``,
    its flow state row is loaded in the same statement)."""
    user = (await load_for_turn(uow, platform, external_id, conversation) if conversation
            else await find_user_by_identity(uow, platform, external_id))
    if user is not None:
        return user
    now = uow.clock.now()
    name = clean_name(display_name) or "friend"
    try:
        # A savepoint: two first messages racing must not poison the turn's transaction.
        async with uow.session.begin_nested():
            user = User(
                display_name=name,
                timezone=uow.settings.app.default_timezone,
                created_at=now,
                roles=[],
            )
            uow.session.add(user)
            await uow.session.flush()
            uow.session.add(
                Identity(
                    user_id=user.id, platform=platform, external_id=external_id, created_at=now
                )
            )
            await uow.session.flush()
    except IntegrityError:
        user = await find_user_by_identity(uow, platform, external_id)
        if user is None:
            raise
    return user


def grant_role(uow: UnitOfWork, user: User, role: str) -> None:
    """Give ``user`` a role (idempotent)."""
    if role not in ROLES:
        raise InvalidInput(f"Unknown role {role!r}.")
    if role not in user.role_names:
        user.roles.append(UserRole(role=role, granted_at=uow.clock.now()))


def set_timezone(user: User, text: str) -> str:
    """Set the user's IANA timezone from a zone name, a city or a UTC offset."""
    zone = parse_timezone(text)
    user.timezone = zone
    return zone


async def list_identities(uow: UnitOfWork, user: User) -> list[Identity]:
    stmt = select(Identity).where(Identity.user_id == user.id).order_by(Identity.id)
    return list((await uow.session.scalars(stmt)).all())


async def list_external_ids_with_role(
    uow: UnitOfWork, platform: str, role: str, *, limit: int
) -> list[str]:
    """Platform ids of people holding ``role`` (for per-role command menus)."""
    stmt = (
        select(Identity.external_id)
        .join(UserRole, UserRole.user_id == Identity.user_id)
        .where(Identity.platform == platform, UserRole.role == role)
        .limit(limit)
    )
    return list((await uow.session.scalars(stmt)).all())


async def set_notify_via(uow: UnitOfWork, user: User, platform: str) -> None:
    """Send notifications to one of the user's own apps."""
    if platform not in {i.platform for i in await list_identities(uow, user)}:
        raise InvalidInput("Please pick one of the apps you use Alpha Peer on.")
    user.notify_via = platform


def complete_onboarding(
    uow: UnitOfWork, user: User, *, role: str, timezone: str, origin: str | None
) -> None:
    if role not in SELF_SERVICE_ROLES:
        raise InvalidInput("Please pick one of the roles offered.")
    grant_role(uow, user, role)
    set_timezone(user, timezone)
    if origin and not user.origin:
        user.origin = origin[:64]
    if user.onboarded_at is None:
        user.onboarded_at = uow.clock.now()


def rename(user: User, text: str) -> None:
    user.display_name = clean_line(text, what="name", least=1, most=64)
