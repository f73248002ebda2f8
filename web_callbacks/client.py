"""Who is asking: the client's address for rate limits. Behind a reverse proxy every request
comes from the proxy, so the proxy's X-Forwarded-For is believed only when the request came
from an address listed in ``[web] trusted_proxies``; then the nearest hop that is not itself
a trusted proxy is the client (anything further left could be forged by the client)."""

from __future__ import annotations

from aiohttp import web


def client_ip(request: web.Request, trusted: frozenset[str]) -> str:
    peer = request.remote or "unknown"
    if peer not in trusted:
        return peer
    hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",")]
    for hop in reversed([h for h in hops if h]):
        if hop not in trusted:
            return hop[:64]
    return peer
