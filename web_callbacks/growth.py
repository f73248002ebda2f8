"""Growth pages: the invitation landing page behind every referral link (``/r/<payload>``)
and the visitor's inquiry form on a course (``/courses/<slug>/inquire``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from html import escape

from aiohttp import web

from core.catalogue import find_course_by_slug
from core.errors import DomainError, NotFound
from core.inquiry import MAX_MESSAGE, TooManyInquiries, submit_inquiry
from core.models import Course
from core.referral import find_referrer, invite_links, parse_payload
from core.signing import sign_token, verify_token
from core.uow import Database
from web_callbacks.client import client_ip
from web_callbacks.pages import html_page

FORM = "inquiry"
FORM_HOURS = 6  # long enough to write a question, short enough that tokens go stale
FIELDS = ("name", "email", "message")
UNKNOWN_INVITE = ("<p>This invitation link is not valid. Check that it was copied whole, "
                  "or ask the person who invited you for a new one.</p>")
EXPIRED_FORM = ("This form expired or didn't come from our page. Nothing was sent — reload "
                "the page and send your question again.")


def _course_box(course: Course, public: str) -> str:
    ask = f"{public}/courses/{course.slug}/inquire"
    return (f"<div class=box><strong>📘 {escape(course.title)}</strong><br>"
            f"<span class=muted>{escape(course.level.capitalize())} · {escape(str(course.price))}"
            f" per {course.session_minutes}-minute session</span>"
            + (f"<p>{escape(course.description[:400])}</p>" if course.description else "")
            + f"<p><a href='{escape(ask)}'>❓ Ask the creator a question</a></p></div>")


def growth_routes(db: Database, after_commit: Callable[[], None] | None = None
                  ) -> list[web.RouteDef]:
    settings = db.settings
    public = settings.web.public_url.rstrip("/")

    async def landing(request: web.Request) -> web.Response:
        ref = parse_payload(request.match_info["payload"])
        async with db.uow() as uow:
            referrer = await find_referrer(uow, ref.code) if ref else None
            course = (await uow.session.get(Course, ref.course_id)
                      if ref and ref.course_id else None)
        if ref is None or referrer is None:
            return html_page("Invitation not found", UNKNOWN_INVITE, 404)
        links = invite_links(settings, ref)
        about = course if course is not None and course.status == "published" else None
        start = f"<code>/start {escape(links.payload)}</code>"
        ways = [f"<p><a href='{escape(links.telegram)}'><strong>Open in Telegram</strong></a>"
                "</p>"] if links.telegram else []
        if settings.discord.invite_url:
            ways.append(f"<p>On Discord: <a href='{escape(settings.discord.invite_url)}'>join "
                        f"our server</a>, then send the Alpha Peer bot {start}</p>")
        ways.append(f"<p>In any chat with the Alpha Peer bot, send {start} — it remembers "
                    "who invited you.</p>")
        body = (f"<p><strong>{escape(referrer.display_name)}</strong> invited you to Alpha Peer"
                + (f" to learn <strong>{escape(about.title)}</strong>" if about else "")
                + ".</p><p>Learn a course from a peer who just mastered it, in live one-to-one "
                "sessions — then teach it yourself and earn.</p>"
                + (_course_box(about, public) if about else "")
                + "<div class=box><strong>Start in chat</strong>" + "".join(ways) + "</div>")
        return html_page("You're invited", body)

    def _form(course: Course, values: dict[str, str], error: str = "",
              status: int = 200) -> web.Response:
        token = sign_token(settings.secrets.secret_key, FORM, course.slug,
                           db.clock.now() + timedelta(hours=FORM_HOURS))
        v = {k: escape(values.get(k, ""), quote=True) for k in FIELDS}
        note = f"<p class=tag>⚠️ {escape(error)}</p>" if error else ""
        body = (
            f"{note}<p>Your question goes to the person who made <strong>"
            f"{escape(course.title)}</strong>; they answer by email.</p>"
            f"<form method=post action='/courses/{escape(course.slug)}/inquire' class=box>"
            f"<input type=hidden name=token value='{escape(token)}'>"
            f"<p><label>Your name<br><input name=name maxlength=80 required "
            f"value='{v['name']}'></label></p>"
            f"<p><label>Your email<br><input name=email type=email maxlength=254 required "
            f"value='{v['email']}'></label></p>"
            f"<p><label>Your question<br><textarea name=message rows=6 cols=48 "
            f"maxlength={MAX_MESSAGE} required>{v['message']}</textarea></label></p>"
            "<p><button>Send my question</button></p></form>")
        return html_page(f"Ask about {course.title}", body, status)

    async def _course(request: web.Request) -> Course | None:
        async with db.uow() as uow:
            return await find_course_by_slug(uow, request.match_info["slug"])

    async def show_form(request: web.Request) -> web.Response:
        course = await _course(request)
        if course is None:
            return html_page("Course not found", "<p>No open course has this address.</p>",
                             404)
        return _form(course, {})

    async def send(request: web.Request) -> web.Response:
        course = await _course(request)
        if course is None:
            return html_page("Course not found", "<p>No open course has this address.</p>",
                             404)
        form = await request.post()
        values = {k: str(form.get(k, ""))[:5000] for k in (*FIELDS, "token")}
        try:
            if verify_token(settings.secrets.secret_key, FORM, values["token"],
                            db.clock.now()) != course.slug:
                raise NotFound("form")
        except NotFound:
            return _form(course, values, EXPIRED_FORM, 400)
        try:
            ip = client_ip(request, db.settings.web.proxies)
            async with db.uow() as uow:
                row = await submit_inquiry(uow, course.id, values["name"], values["email"],
                                           values["message"], "web", ip=ip)
        except TooManyInquiries as exc:
            return html_page("Too many inquiries", f"<p>{escape(exc.user_message)}</p>", 429)
        except DomainError as exc:
            return _form(course, values, exc.user_message, 400)
        if after_commit is not None:
            after_commit()
        return html_page("Thanks — the creator will answer by email",
                         f"<p>Your question about <strong>{escape(course.title)}</strong> is "
                         f"on its way. The reply will come to {escape(row.email)}.</p>")

    return [web.get("/r/{payload}", landing),
            web.get("/courses/{slug}/inquire", show_form),
            web.post("/courses/{slug}/inquire", send)]
