"""A payment provider stand-in for crash tests: refunds and transfers deduplicated by
idempotency key as Stripe does, every call appended to a file and fsynced before it answers,
so a test can count the money that really moved across any number of killed processes."""

from __future__ import annotations

import hashlib
import json
import os
import signal
from pathlib import Path
from typing import Any

from core.payment_port import Checkout, CheckoutRequest, OutRequest, ProviderError


def read_calls(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class RecordingProvider:
    """Refunds and transfers deduplicated by idempotency key, like Stripe: a repeated key
    answers the first result and moves nothing; a repeated key with other parameters is an
    error. Each call is appended to ``path`` and fsynced before the answer is returned.

    The first call matching ``ambiguous`` moves the money and then times out (unanswered, so
    the outcome is unknown to the caller). ``crash`` = ``before:N`` / ``after:N`` kills the
    process as the N-th call of this run starts, or after the provider has acted (and recorded
    it) but before it answers."""

    def __init__(self, name: str, path: Path, *, ambiguous: tuple[str, str, int],
                 crash: str = "") -> None:
        self.name = name
        self._path = path
        self._ambiguous = ambiguous  # (kind, destination, amount): moves, then times out
        self._crash = crash
        self.calls = 0
        lines = read_calls(path)
        self._done = {line["key"]: line for line in lines if line["op"] == "move"}
        self._timed_out = any(line.get("timed_out") for line in lines)

    def _append(self, line: dict[str, Any]) -> None:
        with self._path.open("a") as f:
            f.write(json.dumps(line, sort_keys=True) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def _act(self, kind: str, request: OutRequest) -> str:
        self.calls += 1
        if self._crash == f"before:{self.calls}":
            die()
        params = {"kind": kind, "key": request.key, "amount": request.amount.minor,
                  "currency": request.amount.currency, "charge": request.charge_ref,
                  "destination": request.destination}
        first = self._done.get(request.key)
        if first is not None:
            same = all(first[k] == v for k, v in params.items())
            self._append({**params, "op": "replay" if same else "conflict",
                          "ref": first["ref"]})
            if not same:
                raise ProviderError(f"idempotency key {request.key} reused with other "
                                    "parameters", retryable=False)
            ref = str(first["ref"])
            if self._crash == f"after:{self.calls}":
                die()
        else:
            ref = f"{kind[:2]}_{hashlib.sha256(request.key.encode()).hexdigest()[:16]}"
            timeout = not self._timed_out and (
                kind, request.destination, request.amount.minor) == self._ambiguous
            line = {**params, "op": "move", "ref": ref, "timed_out": timeout}
            self._append(line)
            self._done[request.key] = line
            if self._crash == f"after:{self.calls}":
                die()
            if timeout:
                self._timed_out = True
                # Unanswered: the outcome is unknown, so only the same key may be retried.
                raise ProviderError("timed out waiting for the provider", retryable=True,
                                    answered=False)
        return ref

    async def refund(self, request: OutRequest) -> str:
        return self._act("refund", request)

    async def transfer(self, request: OutRequest) -> str:
        return self._act("transfer", request)

    async def reverse(self, request: Any) -> str:
        raise ProviderError("no reversals in this scenario", retryable=False)

    async def open_checkout(self, request: CheckoutRequest) -> Checkout:
        raise ProviderError("checkouts are opened by prepare()", retryable=False)

    async def connect_link(self, user_id: int, account_ref: str | None,
                           return_url: str) -> tuple[str, str]:
        return account_ref or f"acct_crash_{user_id}", return_url

    async def account_ready(self, account_ref: str) -> bool:
        return True
