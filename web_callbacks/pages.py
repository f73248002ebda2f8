"""Minimal, escaped HTML pages (no template engine needed for a handful of pages)."""

from __future__ import annotations

from html import escape

from aiohttp import web

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;"
    "color:#1f2933}h1{font-size:1.4rem}.box{border:1px solid #d2d6dc;border-radius:.5rem;"
    "padding:1rem 1.25rem;margin:1rem 0}.muted{color:#616e7c}.tag{display:inline-block;"
    "background:#fef3c7;border-radius:.25rem;padding:.1rem .4rem;font-size:.85rem}"
)


def page(title: str, body_html: str) -> str:
    """A whole page; ``body_html`` must already be escaped by the caller."""
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<meta name=viewport content='width=device-width,initial-scale=1'>"
        f"<title>{escape(title)} · Alpha Peer</title><style>{_STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body_html}</body></html>"
    )


def rows(pairs: list[tuple[str, str]]) -> str:
    return "".join(
        f"<div><span class=muted>{escape(k)}:</span> {escape(v)}</div>" for k, v in pairs
    )


def html_page(title: str, body_html: str, status: int = 200) -> web.Response:
    """``page`` as a response."""
    return web.Response(text=page(title, body_html), content_type="text/html", status=status)
