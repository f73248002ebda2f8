"""Telling a database outage from a bug. An outage (the server down or restarting, its
connections cut, the pool exhausted) is expected and passes by itself: background loops
log it in one line and try again next round, instead of a traceback every round."""

from __future__ import annotations

import logging

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

# PostgreSQL's SQLSTATEs for "not now": connection exceptions (class 08), the server shutting
# down or starting up (57P01-57P03), too many connections (53300). asyncpg's are wrapped in a
# plain DBAPIError, not an OperationalError.
OUTAGE_STATES = ("08", "57P01", "57P02", "57P03", "53300")


def is_outage(exc: BaseException) -> bool:
    """True when ``exc`` says the database could not be reached, not that a query was wrong."""
    # asyncpg's refused connections surface as the plain OSError, not wrapped by SQLAlchemy.
    if isinstance(exc, (OperationalError, PoolTimeout, ConnectionError, OSError)):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    state = getattr(exc.orig, "sqlstate", None)
    return bool(exc.connection_invalidated) or (
        isinstance(state, str) and state.startswith(OUTAGE_STATES))


def log_failure(log: logging.Logger, what: str, exc: BaseException) -> None:
    """One line for an outage; the traceback for anything else (call it inside ``except``)."""
    if is_outage(exc):
        log.warning("%s (trying again later): %s: %s", what, type(exc).__name__, exc)
    else:
        log.exception(what)
