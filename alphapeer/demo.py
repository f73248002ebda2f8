"""Demo data for ``alphapeer run --demo``: idempotent, so running it twice changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from alphapeer.demo_history import seed_history
from core.account import find_user_by_identity, grant_role
from core.availability import booking_window, list_free_slots, set_weekly_availability
from core.booking import confirm_booking, hold_slot, toggle_teacher_records
from core.models import (
    AccountEmail,
    Course,
    CourseMaterial,
    CourseModule,
    CourseTeacher,
    Identity,
    User,
)
from core.profile import set_bio, set_interest
from core.uow import Database, UnitOfWork
from core.windows import Window

PLATFORM = "terminal"
MARKER = "ada"  # the demo creator; if she exists the demo is already seeded
DEMO_DOMAIN = "demo.alphapeer.example"


@dataclass(frozen=True)
class Person:
    key: str
    name: str
    zone: str
    roles: tuple[str, ...]
    bio: str = ""
    interests: tuple[str, ...] = ()


PEOPLE = (
    Person(
        "ada",
        "Ada Lovelace",
        "Europe/London",
        ("creator", "teacher", "student"),
        "Course creator. Loves first programs.",
        ("code", "data", "writing"),
    ),
    Person(
        "maya",
        "Maya Schmidt",
        "Europe/Berlin",
        ("teacher", "student"),
        "Certified in Python and SQL; teaches weekday evenings.",
        ("code", "data"),
    ),
    Person(
        "carlos",
        "Carlos Ruiz",
        "America/Mexico_City",
        ("teacher", "student"),
        "Native Spanish speaker, Python tutor.",
        ("languages", "code"),
    ),
    Person(
        "ken",
        "Ken Sato",
        "Asia/Tokyo",
        ("teacher", "student"),
        "Data analyst teaching SQL and Spanish.",
        ("data", "languages"),
    ),
    Person("sam", "Sam Carter", "America/New_York", ("student",), "", ("code",)),
    Person("priya", "Priya Nair", "Asia/Kolkata", ("student",),
           "Learning Python to automate my lab's data work.", ("code", "science")),
    Person("brian", "Brian (Alpha Peer)", "America/Chicago", ("admin",)),
)

COURSES = (
    (
        "python-from-zero",
        "Python from Zero",
        "beginner",
        4000,
        60,
        "Write your first real programs: variables, loops, functions and files.",
        ("Variables and types", "Control flow", "Functions", "Files and modules"),
        ("maya", "carlos", "ada"),
    ),
    (
        "conversational-spanish",
        "Conversational Spanish",
        "beginner",
        3000,
        45,
        "Speak from day one: greetings, directions, ordering food, small talk.",
        ("Greetings and introductions", "Getting around", "At the restaurant", "Small talk"),
        ("carlos", "ken"),
    ),
    (
        "sql-data-analysis",
        "Data Analysis with SQL",
        "intermediate",
        5000,
        60,
        "Answer business questions with SELECT, JOIN, GROUP BY and window functions.",
        ("Selecting and filtering", "Joins", "Aggregation", "Window functions"),
        ("ken", "maya"),
    ),
)

# Reference material per course (module position or None, kind, title, link, text): what
# /ask searches when AI is off, and the context it is given when AI is on.
MATERIALS = {
    "python-from-zero": (
        (1, "note", "Names and values", None,
         "A variable is a name bound to a value. Types: int, float, str, bool, list, dict."),
        (2, "note", "Loops", None,
         "Use for to loop over a list or a range; while repeats until a condition is false. "
         "break leaves a loop, continue skips to the next round."),
        (3, "note", "Functions and decorators", None,
         "def defines a function; return gives back a value. A decorator wraps a function "
         "to add behaviour, for example timing or logging."),
        (4, "link", "Reading and writing files",
         "https://docs.python.org/3/tutorial/inputoutput.html#reading-and-writing-files",
         "Open a file with open() inside a with statement; iterate over the file object "
         "to read it line by line."),
    ),
    "conversational-spanish": (
        (1, "note", "Greetings", None,
         "Hola, buenos días, buenas tardes, buenas noches. ¿Cómo estás? Mucho gusto."),
        (3, "note", "Ordering food", None,
         "Quisiera… (I would like), la cuenta, por favor (the bill, please)."),
    ),
    "sql-data-analysis": (
        (2, "note", "Joins", None,
         "INNER JOIN keeps matching rows; LEFT JOIN keeps every row of the left table."),
        (4, "link", "Window functions",
         "https://www.postgresql.org/docs/current/tutorial-window.html",
         "A window function computes over related rows without collapsing them: "
         "ROW_NUMBER, RANK, running totals with SUM() OVER (ORDER BY ...)."),
    ),
}
RECORDING_TEACHERS = ("maya", "carlos", "ken", "ada")  # agree to recordings (demo)

WEEKDAYS = (0, 1, 2, 3, 4)
EVERY_DAY = (0, 1, 2, 3, 4, 5, 6)
AVAILABILITY = {
    "maya": [Window(d, 18 * 60, 21 * 60) for d in WEEKDAYS] + [Window(5, 10 * 60, 13 * 60)],
    "carlos": [Window(d, 9 * 60, 12 * 60) for d in (0, 1, 2, 3, 4, 5)]
    + [Window(d, 17 * 60, 20 * 60) for d in (1, 3)],
    "ken": [Window(d, 7 * 60, 10 * 60) for d in EVERY_DAY]
    + [Window(d, 14 * 60, 17 * 60) for d in (5, 6)],
    "ada": [Window(2, 15 * 60, 17 * 60)],
}


async def _people(uow: UnitOfWork) -> dict[str, User]:
    now = uow.clock.now()
    users: dict[str, User] = {}
    for p in PEOPLE:
        user = User(
            display_name=p.name,
            timezone=p.zone,
            created_at=now,
            onboarded_at=now,
            origin="demo",
            roles=[],
        )
        uow.session.add(user)
        for role in p.roles:
            grant_role(uow, user, role)
        await uow.session.flush()
        uow.session.add(
            Identity(user_id=user.id, platform=PLATFORM, external_id=p.key, created_at=now)
        )
        if p.bio:
            await set_bio(uow, user, p.bio)
        for interest in p.interests:
            await set_interest(uow, user, interest, True)
        users[p.key] = user
    return users


async def seed_demo(db: Database) -> bool:
    """Seed an empty demo catalogue; False when it is already there."""
    async with db.uow() as uow:
        if await find_user_by_identity(uow, PLATFORM, MARKER) is not None:
            return False
        users = await _people(uow)
        now = uow.clock.now()
        courses: dict[str, Course] = {}
        for slug, title, level, price, minutes, blurb, modules, teachers in COURSES:
            course = Course(
                slug=slug,
                title=title,
                level=level,
                price_minor=price,
                currency=db.settings.app.currency,
                session_minutes=minutes,
                status="published",
                creator_id=users["ada"].id,
                description=blurb,
                created_at=now,
            )
            uow.session.add(course)
            await uow.session.flush()
            module_rows = [CourseModule(course_id=course.id, position=i + 1, title=m)
                           for i, m in enumerate(modules)]
            uow.session.add_all(module_rows)
            await uow.session.flush()
            uow.session.add_all(
                CourseMaterial(course_id=course.id, module_id=module_rows[pos - 1].id,
                               kind=kind, title=name, url=url, body=body, created_at=now)
                for pos, kind, name, url, body in MATERIALS.get(slug, ()))
            uow.session.add_all(
                CourseTeacher(course_id=course.id, teacher_id=users[t].id, approved_at=now)
                for t in teachers
            )
            courses[slug] = course
        for key, windows in AVAILABILITY.items():
            await set_weekly_availability(uow, users[key], windows)
        await uow.session.flush()
        for key in RECORDING_TEACHERS:
            await toggle_teacher_records(uow, users[key])
        # One paid session for Sam, so /mybookings has something to show.
        start, end = booking_window(uow)
        python = courses["python-from-zero"]
        slots = await list_free_slots(
            uow,
            [users["maya"]],
            python.session_minutes,
            student_id=users["sam"].id,
            start=start + timedelta(days=2),
            end=end,
        )
        if slots:
            booking = await hold_slot(
                uow, users["sam"], python.id, users["maya"].id, slots[0].starts_at, record=True
            )
            await confirm_booking(uow, booking.id)
    await seed_history(db, users, courses["python-from-zero"].id)
    await _addresses(db, users)
    return True


async def _addresses(db: Database, users: dict[str, User]) -> None:
    """Verified demo addresses, added after the past so only new email goes out: with the
    embedded folder backend, what Sam or Maya would receive lands in var/mail."""
    async with db.uow() as uow:
        uow.session.add_all(
            AccountEmail(user_id=users[key].id, address=f"{key}@{DEMO_DOMAIN}",
                         added_at=uow.clock.now(), verified_at=uow.clock.now())
            for key in users)
