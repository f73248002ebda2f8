"""Public certificate verification: anyone with the link (an employer, a school) sees
whether a certificate is real and still valid, and can download its PDF."""

from __future__ import annotations

from html import escape

from aiohttp import web

from core.certificates import CertificateView, certificate_by_code, certificate_pdf, issued_on
from core.uow import Database
from handlers.links import verify_url
from web_callbacks.pages import html_page, rows

NOT_FOUND = ("<p>No certificate with this id. Check that the link was copied whole; "
             "certificate ids are case-sensitive.</p>")


def _body(view: CertificateView, pdf_link: str) -> str:
    cert = view.certificate
    facts = [("Holder", view.holder), ("Course", view.course_title),
             ("Issued", issued_on(cert.issued_at)), ("Issued by", view.issuer),
             ("Course creator", view.creator)]
    if cert.kind == "teaching":
        facts.append(("Students taught", str(view.students_taught)))
    facts.append(("Certificate id", cert.code))
    if view.revoked:
        when = issued_on(cert.revoked_at) if cert.revoked_at else ""
        status = (f"<p class=tag>✖ Revoked on {escape(when)}"
                  f"{': ' + escape(cert.revoked_reason) if cert.revoked_reason else ''}"
                  "</p><p>This certificate is no longer valid.</p>")
        download = ""
    else:
        status = "<p><strong>✔ Valid</strong>: issued by Alpha Peer and not revoked.</p>"
        download = f"<p><a href='{escape(pdf_link)}'>Download the PDF</a></p>"
    return f"{status}<div class=box>{rows(facts)}</div>{download}"


def verify_routes(db: Database) -> list[web.RouteDef]:
    async def verify_pdf(request: web.Request) -> web.Response:
        code = request.match_info["code"]
        async with db.uow() as uow:
            view = await certificate_by_code(uow, code)
        if view is None:
            return html_page("Certificate not found", NOT_FOUND, 404)
        if view.revoked:
            return html_page("Certificate revoked", "<p>This certificate was revoked and is "
                             "no longer valid, so there is no PDF to download.</p>", 410)
        body = certificate_pdf(view, verify_url(db.settings, view.certificate.code))
        return web.Response(body=body, content_type="application/pdf", headers={
            "Content-Disposition": f"inline; filename=certificate-{view.certificate.code}.pdf",
            "Cache-Control": "public, max-age=300"})

    async def verify_page(request: web.Request) -> web.Response:
        code = request.match_info["code"]
        async with db.uow() as uow:
            view = await certificate_by_code(uow, code)
        if view is None:
            return html_page("Certificate not found", NOT_FOUND, 404)
        link = verify_url(db.settings, view.certificate.code) + ".pdf"
        return html_page(view.title, _body(view, link))

    # The .pdf route first: "{code}" alone would also match "abc.pdf".
    return [web.get("/verify/{code}.pdf", verify_pdf), web.get("/verify/{code}", verify_page)]
