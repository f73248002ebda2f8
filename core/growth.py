"""Where people come from and what it led to, for the admin: sign-up origins, the referral
funnel per channel, inquiry → enrolment and free intro → paid session conversion."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, exists, func, or_, select

from core.booking import intro_conversion
from core.inquiry import InquiryStats, inquiry_stats
from core.models import Enrolment, Referral, User
from core.models.growth import REFERRAL_CHANNELS
from core.uow import UnitOfWork

DIRECT = "direct"
REF = "ref:"
OUTREACH = "outreach"
SCANNED = 200  # distinct origins read; the rest count as "other"


@dataclass(frozen=True)
class Origin:
    label: str
    count: int


@dataclass(frozen=True)
class Funnel:
    channel: str
    invited: int  # invitations sent (a link counts when someone arrives by it)
    joined: int
    enrolled: int  # joined, then enrolled (in the referred course, if there was one)


@dataclass(frozen=True)
class GrowthReport:
    people: int
    origins: list[Origin]
    funnel: list[Funnel]
    inquiries: InquiryStats
    intros: tuple[int, int]  # (free intros held, followed by a paid session)


async def _referrer_names(uow: UnitOfWork, codes: list[str]) -> dict[str, str]:
    if not codes:
        return {}
    rows = await uow.session.execute(select(User.ref_code, User.display_name).where(
        User.ref_code.in_(codes)))
    return {str(code): name for code, name in rows.all()}


async def origin_counts(uow: UnitOfWork, *, top: int = 6) -> tuple[int, list[Origin]]:
    """(people onboarded, the ``top`` origins with their counts; the rest as "other")."""
    count = func.count()
    rows = [(origin, int(n)) for origin, n in (await uow.session.execute(
        select(User.origin, count).where(User.onboarded_at.is_not(None))
        .group_by(User.origin).order_by(count.desc(), User.origin).limit(SCANNED))).all()]
    people = int(await uow.session.scalar(select(func.count()).select_from(User).where(
        User.onboarded_at.is_not(None))) or 0)
    shown = rows[:top]
    names = await _referrer_names(uow, [o[len(REF):] for o, _ in shown
                                        if o and o.startswith(REF)])
    origins = [Origin(_label(origin, names), n) for origin, n in shown]
    rest = people - sum(o.count for o in origins)
    if rest > 0:
        origins.append(Origin("other", rest))
    return people, origins


def _label(origin: str | None, names: dict[str, str]) -> str:
    if not origin:
        return DIRECT
    if origin.startswith(REF):
        name = names.get(origin[len(REF):])
        return f"invited by {name}" if name else "a referral link"
    if origin == OUTREACH:
        return "admin's email"
    return origin


async def referral_funnel(uow: UnitOfWork) -> list[Funnel]:
    """Invited → joined → enrolled, per channel (email, link, outreach)."""
    enrolled = exists().where(
        Enrolment.student_id == Referral.joined_user_id,
        or_(Referral.course_id.is_(None), Enrolment.course_id == Referral.course_id))
    rows = await uow.session.execute(
        select(Referral.channel, func.count(), func.count(Referral.joined_user_id),
               func.sum(case((enrolled, 1), else_=0)))
        .group_by(Referral.channel))
    found = {channel: (int(n), int(joined), int(done or 0))
             for channel, n, joined, done in rows.all()}
    return [Funnel(c, *found.get(c, (0, 0, 0))) for c in REFERRAL_CHANNELS]


async def growth_report(uow: UnitOfWork) -> GrowthReport:
    people, origins = await origin_counts(uow)
    return GrowthReport(people, origins, await referral_funnel(uow),
                        await inquiry_stats(uow), await intro_conversion(uow))
