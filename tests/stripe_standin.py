"""A stand-in Stripe API on loopback: the real ``stripe`` client talks to it over HTTP.

It covers what Alpha Peer calls — Checkout Sessions, PaymentIntents, Charges (implicitly),
Refunds, Transfers and their Reversals, Accounts and Account Links — with Stripe's rules that
matter to us: bearer-key auth, form-encoded nested parameters, idempotency keys (a repeat
replays the first answer; the same key with other parameters is an error), the platform's and
each connected account's balance with ``balance_insufficient`` errors, transfers limited by
their ``source_transaction``, and signed webhook events (``Stripe-Signature``).

Test-only controls (not Stripe API): ``pay`` completes a session as a customer would,
``onboard`` finishes an account's onboarding, ``dispute`` opens/closes a dispute, ``fail_next``
makes the next calls fail; each returns the event Stripe would send, and ``signed`` signs it.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import stripe
from aiohttp import web

Obj = dict[str, Any]


class StripeFailure(Exception):
    def __init__(self, status: int, kind: str, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.kind, self.message, self.code = status, kind, message, code


def decode_form(body: str) -> Obj:
    """``a[b][0][c]=1`` → {"a": {"b": [{"c": "1"}]}}, as Stripe reads its parameters."""
    root: Obj = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value

    def lists(node: Any) -> Any:
        if isinstance(node, dict):
            if node and all(k.isdigit() for k in node):
                return [lists(node[k]) for k in sorted(node, key=int)]
            return {k: lists(v) for k, v in node.items()}
        return node

    return lists(root)  # type: ignore[no-any-return]


@dataclass
class Account:
    obj: Obj
    balance: dict[str, int] = field(default_factory=dict)


@dataclass
class StripeStandIn:
    api_key: str
    webhook_secret: str
    now: Callable[[], float] = time.time
    base_url: str = ""
    sessions: dict[str, Obj] = field(default_factory=dict)
    intents: dict[str, Obj] = field(default_factory=dict)
    charges: dict[str, Obj] = field(default_factory=dict)
    refunds: dict[str, Obj] = field(default_factory=dict)
    transfers: dict[str, Obj] = field(default_factory=dict)
    accounts: dict[str, Account] = field(default_factory=dict)
    balance: dict[str, int] = field(default_factory=dict)  # the platform's, per currency
    events: list[Obj] = field(default_factory=list)
    idempotent: dict[str, tuple[str, int, Obj]] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)  # (method, path), real calls
    failures: list[int] = field(default_factory=list)  # statuses for the next calls
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # ---- helpers -------------------------------------------------------------------------
    def _id(self, prefix: str) -> str:
        return f"{prefix}_test_{next(self._ids):06d}"

    def _event(self, kind: str, obj: Obj) -> Obj:
        event = {"id": self._id("evt"), "object": "event", "type": kind,
                 "created": int(self.now()), "livemode": False, "api_version": "2025-01-01",
                 "data": {"object": json.loads(json.dumps(obj))}}
        self.events.append(event)
        return event

    def signed(self, event: Obj, *, timestamp: int | None = None, secret: str | None = None
               ) -> tuple[bytes, str]:
        body = json.dumps(event)
        header = stripe.WebhookSignature.generate_signature_header(
            body, secret or self.webhook_secret, timestamp or int(time.time()))
        return body.encode(), header

    def fail_next(self, *statuses: int) -> None:
        self.failures.extend(statuses)

    def platform_balance(self, currency: str = "usd") -> int:
        return self.balance.get(currency, 0)

    def account_balance(self, account: str, currency: str = "usd") -> int:
        return self.accounts[account].balance.get(currency, 0)

    # ---- test controls: what customers, payees and banks do ------------------------------
    def pay(self, session_id: str) -> Obj:
        """The customer pays: a PaymentIntent and its charge; funds join the platform."""
        session = self.sessions[session_id]
        amount, currency = session["amount_total"], session["currency"]
        intent_id, charge_id = self._id("pi"), self._id("ch")
        data = session.pop("_intent_data", {})
        self.charges[charge_id] = {"id": charge_id, "object": "charge", "amount": amount,
                                   "currency": currency, "payment_intent": intent_id,
                                   "amount_refunded": 0, "transferred": 0}
        self.intents[intent_id] = {
            "id": intent_id, "object": "payment_intent", "amount": amount,
            "currency": currency, "status": "succeeded", "latest_charge": charge_id,
            "transfer_group": data.get("transfer_group"), "metadata": data.get("metadata", {})}
        self.balance[currency] = self.balance.get(currency, 0) + amount
        session.update(status="complete", payment_status="paid", payment_intent=intent_id)
        return self._event("checkout.session.completed", session)

    def expire(self, session_id: str) -> Obj:
        session = self.sessions[session_id]
        session.update(status="expired", url=None)
        return self._event("checkout.session.expired", session)

    def onboard(self, account_id: str) -> Obj:
        account = self.accounts[account_id].obj
        account.update(details_submitted=True, charges_enabled=True, payouts_enabled=True,
                       capabilities={"transfers": "active"})
        return self._event("account.updated", account)

    def dispute(self, intent_id: str, status: str = "needs_response") -> Obj:
        intent = self.intents[intent_id]
        obj = {"id": f"du_for_{intent_id}", "object": "dispute", "amount": intent["amount"],
               "currency": intent["currency"], "charge": intent["latest_charge"],
               "payment_intent": intent_id, "status": status}
        closed = status in ("won", "lost")
        return self._event("charge.dispute.closed" if closed else "charge.dispute.created", obj)

    # ---- the API ---------------------------------------------------------------------------
    def _create_session(self, p: Obj) -> Obj:
        if p.get("mode") != "payment":
            raise StripeFailure(400, "invalid_request_error", "mode must be payment")
        items = p.get("line_items") or []
        if len(items) != 1 or "price_data" not in items[0]:
            raise StripeFailure(400, "invalid_request_error", "one line item with price_data")
        price = items[0]["price_data"]
        amount = int(price["unit_amount"]) * int(items[0].get("quantity", 1))
        expires = int(p.get("expires_at", self.now() + 86400))
        if not 1800 <= expires - self.now() <= 86400:
            raise StripeFailure(400, "invalid_request_error",
                                "expires_at must be 30 minutes to 24 hours from now",
                                "parameter_invalid_integer")
        for needed in ("success_url", "cancel_url"):
            if not p.get(needed):
                raise StripeFailure(400, "invalid_request_error", f"Missing {needed}")
        sid = self._id("cs")
        session = {"id": sid, "object": "checkout.session", "mode": "payment",
                   "amount_total": amount, "currency": price["currency"],
                   "metadata": p.get("metadata", {}), "client_reference_id":
                   p.get("client_reference_id"), "status": "open", "payment_status": "unpaid",
                   "payment_intent": None, "expires_at": expires,
                   "success_url": p["success_url"], "url": f"{self.base_url}/c/pay/{sid}",
                   "_intent_data": p.get("payment_intent_data", {})}
        self.sessions[sid] = session
        return session

    def _refund(self, p: Obj) -> Obj:
        intent = self.intents.get(p.get("payment_intent", ""))
        if intent is None:
            raise StripeFailure(404, "invalid_request_error", "No such payment_intent",
                                "resource_missing")
        charge = self.charges[intent["latest_charge"]]
        left = charge["amount"] - charge["amount_refunded"]
        amount = int(p.get("amount", left))
        if amount <= 0 or amount > left:
            raise StripeFailure(400, "invalid_request_error",
                                f"Refund amount ({amount}) is greater than unrefunded amount "
                                f"on charge ({left})", "amount_too_large")
        currency = charge["currency"]
        if self.balance.get(currency, 0) < amount:
            raise StripeFailure(400, "invalid_request_error", "Insufficient funds in the "
                                "Stripe balance to refund", "balance_insufficient")
        self.balance[currency] -= amount
        charge["amount_refunded"] += amount
        rid = self._id("re")
        self.refunds[rid] = {"id": rid, "object": "refund", "amount": amount,
                             "currency": currency, "payment_intent": intent["id"],
                             "charge": charge["id"], "status": "succeeded",
                             "metadata": p.get("metadata", {})}
        return self.refunds[rid]

    def _transfer(self, p: Obj) -> Obj:
        amount, currency = int(p["amount"]), p["currency"]
        account = self.accounts.get(p.get("destination", ""))
        if account is None:
            raise StripeFailure(400, "invalid_request_error", "No such destination",
                                "resource_missing")
        if (account.obj.get("capabilities") or {}).get("transfers") != "active":
            raise StripeFailure(400, "invalid_request_error", "The destination account "
                                "needs the transfers capability", "insufficient_capabilities")
        source = p.get("source_transaction")
        if source is not None:
            charge = self.charges.get(source)
            if charge is None:
                raise StripeFailure(400, "invalid_request_error", "No such charge",
                                    "resource_missing")
            if charge["transferred"] + amount > charge["amount"]:
                raise StripeFailure(400, "invalid_request_error", "Transfers using a source "
                                    "transaction cannot exceed its amount",
                                    "balance_insufficient")
            charge["transferred"] += amount
        if self.balance.get(currency, 0) < amount:
            raise StripeFailure(400, "invalid_request_error", "Insufficient funds in the "
                                "Stripe balance", "balance_insufficient")
        self.balance[currency] -= amount
        account.balance[currency] = account.balance.get(currency, 0) + amount
        tid = self._id("tr")
        self.transfers[tid] = {"id": tid, "object": "transfer", "amount": amount,
                               "currency": currency, "destination": account.obj["id"],
                               "source_transaction": source,
                               "transfer_group": p.get("transfer_group"),
                               "amount_reversed": 0, "reversals": [],
                               "metadata": p.get("metadata", {})}
        return self.transfers[tid]

    def _reverse(self, transfer_id: str, p: Obj) -> Obj:
        transfer = self.transfers.get(transfer_id)
        if transfer is None:
            raise StripeFailure(404, "invalid_request_error", "No such transfer",
                                "resource_missing")
        left = transfer["amount"] - transfer["amount_reversed"]
        amount = int(p.get("amount", left))
        if amount <= 0 or amount > left:
            raise StripeFailure(400, "invalid_request_error", "Reversal is greater than what "
                                "is left on the transfer", "amount_too_large")
        account = self.accounts[transfer["destination"]]
        currency = transfer["currency"]
        if account.balance.get(currency, 0) < amount:
            raise StripeFailure(400, "invalid_request_error", "Insufficient funds in the "
                                "connected account to reverse", "balance_insufficient")
        account.balance[currency] -= amount
        self.balance[currency] = self.balance.get(currency, 0) + amount
        transfer["amount_reversed"] += amount
        reversal = {"id": self._id("trr"), "object": "transfer_reversal", "amount": amount,
                    "currency": currency, "transfer": transfer_id,
                    "metadata": p.get("metadata", {})}
        transfer["reversals"].append(reversal)
        return reversal

    def _create_account(self, p: Obj) -> Obj:
        aid = self._id("acct")
        obj = {"id": aid, "object": "account", "details_submitted": False,
               "charges_enabled": False, "payouts_enabled": False,
               "capabilities": {"transfers": "inactive"}, "controller": p.get("controller"),
               "metadata": p.get("metadata", {})}
        self.accounts[aid] = Account(obj)
        return obj

    def _account_link(self, p: Obj) -> Obj:
        if p.get("account") not in self.accounts:
            raise StripeFailure(400, "invalid_request_error", "No such account",
                                "resource_missing")
        if p.get("type") != "account_onboarding" or not p.get("return_url"):
            raise StripeFailure(400, "invalid_request_error", "bad account link parameters")
        return {"object": "account_link", "expires_at": int(self.now()) + 300,
                "url": f"{self.base_url}/connect/onboard/{p['account']}"}

    def _get(self, table: dict[str, Obj], key: str) -> Obj:
        if key not in table:
            raise StripeFailure(404, "invalid_request_error", "No such object",
                                "resource_missing")
        return table[key]

    def _route(self, method: str, path: str, p: Obj) -> Obj:
        parts = path.strip("/").split("/")[1:]  # drop "v1"
        match method, parts:
            case "POST", ["checkout", "sessions"]:
                return self._create_session(p)
            case "GET", ["checkout", "sessions", sid]:
                return {k: v for k, v in self._get(self.sessions, sid).items()
                        if not k.startswith("_")}
            case "GET", ["payment_intents", pid]:
                return self._get(self.intents, pid)
            case "POST", ["refunds"]:
                return self._refund(p)
            case "POST", ["transfers"]:
                return self._transfer(p)
            case "POST", ["transfers", tid, "reversals"]:
                return self._reverse(tid, p)
            case "POST", ["accounts"]:
                return self._create_account(p)
            case "GET", ["accounts", aid]:
                return self._get({k: a.obj for k, a in self.accounts.items()}, aid)
            case "POST", ["account_links"]:
                return self._account_link(p)
        raise StripeFailure(404, "invalid_request_error", f"Unrecognized request URL ({path})")

    async def handle(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return _error(StripeFailure(401, "invalid_request_error", "Invalid API Key"))
        body = await request.text()
        params = decode_form(body if request.method == "POST" else request.query_string)
        key = request.headers.get("Idempotency-Key")
        if request.method == "POST" and key:
            seen = self.idempotent.get(key)
            if seen is not None:
                if seen[0] != f"{request.path}?{body}":
                    return _error(StripeFailure(400, "idempotency_error", "Keys for "
                                                "idempotent requests can only be used with "
                                                "the same parameters they were first used "
                                                "with."))
                return web.json_response(seen[2], status=seen[1],
                                         headers={"Idempotent-Replayed": "true"})
        if self.failures:
            status = self.failures.pop(0)
            return _error(StripeFailure(status, "api_error", "stand-in failure"))
        self.calls.append((request.method, request.path))
        try:
            result, status = self._route(request.method, request.path, params), 200
        except StripeFailure as exc:
            result, status = _body(exc), exc.status
        if request.method == "POST" and key and status < 500:
            self.idempotent[key] = (f"{request.path}?{body}", status, result)
        return web.json_response(result, status=status)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/v1/{tail:.*}", self.handle)
        return app


def _body(exc: StripeFailure) -> Obj:
    error: Obj = {"type": exc.kind, "message": exc.message}
    if exc.code:
        error["code"] = exc.code
    return {"error": error}


def _error(exc: StripeFailure) -> web.Response:
    return web.json_response(_body(exc), status=exc.status)
