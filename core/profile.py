"""What people tell others about themselves: bio, links, interests, picture and documents,
each section public or private, and how complete it all is. The row is made on the first
edit; until then a person simply has an empty, public profile."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from core.errors import InvalidInput, NotFound
from core.models import (
    Booking,
    Certificate,
    Course,
    CourseTeacher,
    Enrolment,
    Profile,
    TeacherSettings,
    User,
)
from core.models.learning import PROFILE_SECTIONS
from core.social import get_person
from core.text import clean_line, clean_link
from core.uow import UnitOfWork

MAX_BIO = 500
MAX_LINKS = 5
MAX_DOCUMENTS = 5
MAX_REF = 300  # the picture column's width
# The topics people pick from (onboarding, /profile); suggestions use these, never chats.
INTERESTS: dict[str, str] = {
    "code": "Programming",
    "languages": "Languages",
    "maths": "Maths",
    "science": "Science",
    "data": "Data & AI",
    "business": "Business",
    "design": "Design",
    "writing": "Writing",
    "music": "Music",
    "wellbeing": "Wellbeing",
}
# Sections a person may hide; the picture is one too (a funder may hide everything).
SECTIONS = ("picture", *PROFILE_SECTIONS)
SECTION_NAMES = {"picture": "Picture", "bio": "Bio", "links": "Links",
                 "documents": "Documents", "interests": "Interests", "courses": "Courses"}


async def find_profile(uow: UnitOfWork, user_id: int) -> Profile | None:
    return await uow.session.get(Profile, user_id)


async def _editable(uow: UnitOfWork, user: User) -> Profile:
    """The person's row, made on first edit and locked for this change (two quick clicks
    from two processes must not lose one of the edits). Callers check the input first, so
    a refused edit changes nothing."""
    await uow.session.execute(
        uow.insert(Profile)
        .values(user_id=user.id, bio="", links=[], interests=[], private=[], documents=[])
        .on_conflict_do_nothing())
    profile = await uow.session.get(Profile, user.id, populate_existing=True,
                                    with_for_update=True)
    assert profile is not None
    profile.updated_at = uow.clock.now()
    return profile


def clean_bio(text: str | None) -> str:
    """A few lines of plain text: spaces collapsed, blank lines dropped, 500 characters."""
    lines = [" ".join(line.split()) for line in (text or "").splitlines()]
    body = "\n".join(line for line in lines if line)
    if not body:
        raise InvalidInput("Type a few words about yourself, or tap Clear bio.")
    if len(body) > MAX_BIO:
        raise InvalidInput(f"That bio is {len(body)} characters; please keep it to {MAX_BIO} "
                           "or fewer.")
    for line in body.split("\n"):
        clean_line(line, what="bio", least=1, most=MAX_BIO)  # refuses control characters
    return body


async def set_bio(uow: UnitOfWork, user: User, text: str | None) -> str:
    bio = clean_bio(text)
    (await _editable(uow, user)).bio = bio
    return bio


async def clear_bio(uow: UnitOfWork, user: User) -> None:
    (await _editable(uow, user)).bio = ""


def parse_links(text: str | None) -> list[str]:
    """Links typed one per line or separated by spaces or commas."""
    items = (text or "").replace(",", " ").split()
    if not items:
        raise InvalidInput("Type a link such as https://github.com/yourname, or tap "
                           "Remove all links.")
    if len(items) > MAX_LINKS:
        raise InvalidInput(f"That's {len(items)} links; a profile shows up to {MAX_LINKS}.")
    links: list[str] = []
    for item in items:
        link = clean_link(item)
        if link not in links:
            links.append(link)
    return links


async def set_links(uow: UnitOfWork, user: User, text: str | None) -> list[str]:
    """Replace the person's links with the ones typed (all valid, or nothing changes)."""
    links = parse_links(text)
    (await _editable(uow, user)).links = links
    return links


async def clear_links(uow: UnitOfWork, user: User) -> None:
    (await _editable(uow, user)).links = []


def interest_names(keys: list[str]) -> list[str]:
    return [INTERESTS[k] for k in INTERESTS if k in keys]


async def set_interest(uow: UnitOfWork, user: User, key: str, chosen: bool) -> list[str]:
    """Add or remove one topic; the same click twice leaves the same list."""
    if key not in INTERESTS:
        raise InvalidInput("Please tap one of the topics shown.")
    profile = await _editable(uow, user)
    keys = set(profile.interests or []) - {key} | ({key} if chosen else set())
    profile.interests = [k for k in INTERESTS if k in keys]
    return profile.interests


async def set_private(uow: UnitOfWork, user: User, section: str, private: bool) -> list[str]:
    """Hide a section from everyone else, or show it again."""
    if section not in SECTIONS:
        raise InvalidInput("Please tap one of the sections shown.")
    profile = await _editable(uow, user)
    hidden = set(profile.private or []) - {section} | ({section} if private else set())
    profile.private = [s for s in SECTIONS if s in hidden]
    return profile.private


async def set_all_private(uow: UnitOfWork, user: User, private: bool) -> None:
    (await _editable(uow, user)).private = list(SECTIONS) if private else []


async def set_picture(uow: UnitOfWork, user: User, ref: str, platform: str) -> None:
    """Keep the chat platform's id of a photo the person sent (sent again by that id)."""
    if not ref or len(ref) > MAX_REF:
        raise InvalidInput("I couldn't keep that photo. Please send a smaller picture.")
    profile = await _editable(uow, user)
    profile.picture_ref, profile.picture_platform = ref, platform


async def clear_picture(uow: UnitOfWork, user: User) -> None:
    profile = await _editable(uow, user)
    profile.picture_ref = profile.picture_platform = None


async def add_document(uow: UnitOfWork, user: User, *, name: str, ref: str, platform: str,
                       kind: str = "document") -> dict[str, Any]:
    """Add a file (a CV, a certificate, a portfolio); the same file twice is added once."""
    if not ref or len(ref) > 500:
        raise InvalidInput("I couldn't keep that file. Please try sending it again.")
    found = await find_profile(uow, user.id)
    docs = list(found.documents or []) if found else []
    same = next((d for d in docs if d.get("ref") == ref), None)
    if same is not None:
        return same
    if len(docs) >= MAX_DOCUMENTS:
        raise InvalidInput(f"You already show {MAX_DOCUMENTS} documents. Remove one first.")
    label = " ".join(name.split())[:100] or f"Document {len(docs) + 1}"
    doc = {"name": clean_line(label, what="file name", least=1, most=100), "ref": ref,
           "platform": platform, "kind": "photo" if kind == "photo" else "document"}
    profile = await _editable(uow, user)
    profile.documents = [*(profile.documents or []), doc][-MAX_DOCUMENTS:]
    return doc


async def remove_document(uow: UnitOfWork, user: User, number: int) -> str:
    """Remove document ``number`` (1-based, as listed); returns its name."""
    found = await find_profile(uow, user.id)
    if found is None or not 1 <= number <= len(found.documents or []):
        raise NotFound("document")
    profile = await _editable(uow, user)
    docs = list(profile.documents or [])
    gone = docs.pop(number - 1)
    profile.documents = docs
    return str(gone.get("name", "document"))


async def is_listed(uow: UnitOfWork, user_id: int) -> bool:
    """Whether a teacher appears in course teacher directories (yes until they opt out)."""
    listed = await uow.session.scalar(
        select(TeacherSettings.listed).where(TeacherSettings.user_id == user_id))
    return listed is None or bool(listed)


async def set_listed(uow: UnitOfWork, teacher: User, listed: bool) -> bool:
    """Show or hide a teacher in course directories; booking links keep working."""
    if "teacher" not in teacher.role_names:
        raise InvalidInput("Only teachers appear in course directories.")
    row = await uow.session.get(TeacherSettings, teacher.id, with_for_update=True)
    if row is None:
        row = TeacherSettings(user_id=teacher.id, buffer_minutes=0, offers_intro=True,
                              records_sessions=False, listed=listed)
        uow.session.add(row)
    row.listed = listed
    return listed


def profile_strength(user: User, profile: Profile | None, *,
                     teacher: bool = False) -> tuple[int, list[str]]:
    """How complete a profile is (0-100) and what would complete it, most visible first.
    Teachers are also asked for a document: students choose on evidence."""
    checks = [
        ("your name", bool(user.display_name.strip())),
        ("a picture", bool(profile and profile.picture_ref)),
        ("a bio", bool(profile and profile.bio)),
        ("your interests", bool(profile and profile.interests)),
        ("a link", bool(profile and profile.links)),
    ]
    if teacher:
        checks.append(("a document such as a CV", bool(profile and profile.documents)))
    done = sum(ok for _, ok in checks)
    return round(100 * done / len(checks)), [what for what, ok in checks if not ok]


@dataclass(frozen=True)
class HeldCertificate:
    """One live certificate as a profile lists it; Teaching ones count students taught."""

    kind: str  # completion | mastery | teaching
    course_title: str
    code: str
    students_taught: int = 0


@dataclass(frozen=True)
class ProfileView:
    """A profile as one viewer may see it: hidden sections are simply empty for others;
    the owner sees everything, with ``private`` saying what others don't."""

    user: User
    own: bool
    private: frozenset[str]
    bio: str = ""
    links: list[str] = field(default_factory=list)
    interests: list[str] = field(default_factory=list)
    documents: list[dict[str, Any]] = field(default_factory=list)
    picture: tuple[str, str] | None = None  # (platform file id, platform)
    teaches: list[str] = field(default_factory=list)
    learning: list[str] = field(default_factory=list)
    certificates: list[HeldCertificate] = field(default_factory=list)

    def shows(self, section: str) -> bool:
        return self.own or section not in self.private


async def _courses(uow: UnitOfWork, user_id: int
                   ) -> tuple[list[str], list[str], list[HeldCertificate]]:
    teaches = (await uow.session.scalars(
        select(Course.title).join(CourseTeacher, CourseTeacher.course_id == Course.id)
        .where(CourseTeacher.teacher_id == user_id, CourseTeacher.status == "active",
               Course.status == "published").order_by(Course.title))).all()
    learning = (await uow.session.scalars(
        select(Course.title).join(Enrolment, Enrolment.course_id == Course.id)
        .where(Enrolment.student_id == user_id, Enrolment.status != "left")
        .order_by(Course.title))).all()
    taught = dict((await uow.session.execute(
        select(Booking.course_id, func.count(func.distinct(Booking.student_id))).where(
            Booking.teacher_id == user_id, Booking.kind == "lesson",
            Booking.status == "completed").group_by(Booking.course_id))).all())
    held = (await uow.session.execute(
        select(Certificate.kind, Course.title, Certificate.code, Certificate.course_id)
        .join(Course, Course.id == Certificate.course_id)
        .where(Certificate.user_id == user_id, Certificate.revoked_at.is_(None))
        .order_by(Certificate.issued_at, Certificate.id))).all()
    certificates = [HeldCertificate(kind, title, code,
                                    int(taught.get(course_id, 0)) if kind == "teaching" else 0)
                    for kind, title, code, course_id in held]
    return list(teaches), list(learning), certificates


async def public_view(uow: UnitOfWork, viewer: User, user_id: int) -> ProfileView:
    """Someone's profile for ``viewer``: only public sections for others, all for the owner."""
    user = await get_person(uow, user_id)
    profile = await find_profile(uow, user.id)
    own = viewer.id == user.id
    private = frozenset(profile.private or []) if profile else frozenset()

    def shows(section: str) -> bool:
        return own or section not in private

    teaches, learning, certificates = (await _courses(uow, user.id)
                                       if shows("courses") else ([], [], []))
    if profile is None:
        return ProfileView(user, own, private, teaches=teaches, learning=learning,
                           certificates=certificates)
    picture = ((profile.picture_ref, profile.picture_platform or "")
               if profile.picture_ref and shows("picture") else None)
    return ProfileView(
        user, own, private,
        bio=profile.bio if shows("bio") else "",
        links=list(profile.links or []) if shows("links") else [],
        interests=interest_names(profile.interests or []) if shows("interests") else [],
        documents=list(profile.documents or []) if shows("documents") else [],
        picture=picture, teaches=teaches, learning=learning, certificates=certificates)
