"""/certificates [id]: your certificates, each as a PDF with its public verification link
(what you forward to an employer or a school)."""

from __future__ import annotations

from core.certificates import CertificateView, certificate_pdf, issued_on, list_certificates
from core.errors import NotFound
from handlers import payload
from handlers.context import Ctx
from handlers.links import verify_url
from handlers.registry import Command
from handlers.reply import Button, Reply, clip

SENT_AT_ONCE = 3  # more PDFs than this in one turn is noise: the rest come by button
ICONS = {"completion": "🎓", "mastery": "🏅", "teaching": "🧑‍🏫"}


def _line(view: CertificateView) -> str:
    cert = view.certificate
    extra = f" · {view.students_taught} student(s) taught" if cert.kind == "teaching" else ""
    state = "✖ revoked" if view.revoked else "✓ valid"
    return (f"{ICONS[cert.kind]} {view.title} · {view.course_title} · "
            f"{issued_on(cert.issued_at)}{extra} · {state} (id {cert.code})")


def pdf_reply(ctx: Ctx, view: CertificateView) -> Reply:
    code = view.certificate.code
    url = verify_url(ctx.settings, code)
    return Reply(clip(f"{_line(view)}\nAnyone can check it at {url}"),
                 ((Button("🔎 Verify online", url=url),),),
                 file_name=f"certificate-{code}.pdf", file=certificate_pdf(view, url))


async def show_certificates(ctx: Ctx, args: str) -> list[Reply]:
    views = await list_certificates(ctx.uow, ctx.user.id)
    code = args.strip()
    if code:
        chosen = [v for v in views if v.certificate.code == code and not v.revoked]
        if not chosen:
            raise NotFound("certificate")
        return [pdf_reply(ctx, chosen[0])]
    if not views:
        return [Reply("You have no certificates yet. When you meet a course's completion "
                      "criteria, your teacher recommends you and the course's creator "
                      "approves: your certificate then appears here, with a link anyone can "
                      "check.", replace=ctx.clicked)]
    live = [v for v in views if not v.revoked]
    text = "📜 Your certificates:\n" + "\n".join(_line(v) for v in views)
    if len(live) <= SENT_AT_ONCE:
        return [Reply(clip(text), replace=ctx.clicked), *(pdf_reply(ctx, v) for v in live)]
    buttons = tuple((Button(clip(f"📄 {v.title.removeprefix('Certificate of ')} · "
                                 f"{v.course_title}", 80),
                            action=payload.command("certificates", v.certificate.code)),)
                    for v in live[:5])
    return [Reply(clip(text + "\n\nTap one for its PDF."), buttons, replace=ctx.clicked)]


COMMAND = Command("certificates", "Your certificates as PDFs, with links to verify them",
                  handler=show_certificates, args_hint="[id]")
