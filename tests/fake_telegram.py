"""A stand-in Telegram Bot API server on loopback, as strict as the real one where we care:
HTML entities, 64-byte callback data, 4096-character texts, "message is not modified",
URL buttons to public-looking hosts, callback queries answered once.

The test plays the Telegram users: it queues updates (messages, button presses) that the
bot fetches with getUpdates or that the test posts to a webhook, and reads what the bot sent.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

BOT_ID = 7000
BOT_USERNAME = "AlphaPeerTestBot"
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^<>]*)?)>")
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")
_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
         "tg-spoiler", "span", "blockquote", "tg-emoji"}
_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")


class Refused(Exception):
    def __init__(self, description: str, code: int = 400) -> None:
        super().__init__(description)
        self.description = description
        self.code = code


def parse_html(text: str) -> str:
    """The plain text Telegram would show, or Refused like "can't parse entities"."""
    out: list[str] = []
    stack: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "<":
            m = _TAG.match(text, i)
            if m is None or m.group(2).lower() not in _TAGS:
                raise Refused(f"Bad Request: can't parse entities: Unsupported start tag at "
                              f"byte offset {i}")
            name = m.group(2).lower()
            if m.group(1):
                if not stack or stack.pop() != name:
                    raise Refused(f"Bad Request: can't parse entities: Unexpected end tag at "
                                  f"byte offset {i}")
            else:
                stack.append(name)
            i = m.end()
            continue
        if ch == "&":
            m = _ENTITY.match(text, i)
            if m is None:
                raise Refused("Bad Request: can't parse entities: Character '&' is reserved "
                              f"and must be escaped with the preceding '\\\\' at offset {i}")
            out.append(html.unescape(m.group(0)))
            i = m.end()
            continue
        if ch == ">":
            raise Refused(f"Bad Request: can't parse entities: Character '>' is reserved at "
                          f"offset {i}")
        out.append(ch)
        i += 1
    if stack:
        raise Refused(f"Bad Request: can't parse entities: Can't find end tag corresponding "
                      f"to start tag \"{stack[-1]}\"")
    return "".join(out)


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if (parts.scheme not in {"http", "https", "tg"} or not host or host == "localhost"
            or host.startswith("127.") or "." not in host):
        raise Refused(f"Bad Request: inline keyboard button URL '{url}' is invalid: "
                      "Wrong HTTP URL")


def _check_markup(raw: str | None) -> dict[str, Any] | None:
    if not raw:
        return None
    markup = json.loads(raw)
    rows = markup.get("inline_keyboard")
    if not isinstance(rows, list):
        raise Refused("Bad Request: can't parse inline keyboard button: field "
                      "\"inline_keyboard\" must be an Array")
    for row in rows:
        for button in row:
            if not button.get("text"):
                raise Refused("Bad Request: text buttons are unallowed in the inline keyboard")
            if "callback_data" in button:
                if not 1 <= len(button["callback_data"].encode()) <= 64:
                    raise Refused("Bad Request: BUTTON_DATA_INVALID")
            elif "url" in button:
                _check_url(button["url"])
            else:
                raise Refused("Bad Request: can't parse inline keyboard button: "
                              "InlineKeyboardButton must have exactly one optional field")
    return markup


@dataclass
class BotMessage:
    chat_id: int
    message_id: int
    text: str
    markup: dict[str, Any] | None
    kind: str = "text"
    file_name: str | None = None
    file_ref: str | None = None  # the file id when a file was sent again by its id

    @property
    def buttons(self) -> list[dict[str, str]]:
        rows = (self.markup or {}).get("inline_keyboard", [])
        return [b for row in rows for b in row]

    def button(self, label: str) -> dict[str, str]:
        exact = [b for b in self.buttons if b["text"] == label]
        found = exact or [b for b in self.buttons if label.casefold() in b["text"].casefold()]
        labels = [b["text"] for b in self.buttons]
        assert len(found) == 1, f"button {label!r} not unique in {labels}"
        return found[0]

    def as_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "message_id": self.message_id, "date": int(time.time()),
            "chat": {"id": self.chat_id, "type": "private", "first_name": "User"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Alpha Peer",
                     "username": BOT_USERNAME}}
        if self.kind == "text":
            data["text"] = self.text
        elif self.kind == "photo":
            data["caption"] = self.text
            data["photo"] = [{"file_id": self.file_ref or f"photo-{self.message_id}",
                              "file_unique_id": f"u{self.message_id}", "width": 64,
                              "height": 64}]
        else:
            data["caption"] = self.text
            data["document"] = {"file_id": self.file_ref or f"doc-{self.message_id}",
                                "file_unique_id": f"u{self.message_id}",
                                "file_name": self.file_name or "file"}
        if self.markup:
            data["reply_markup"] = self.markup
        return data


@dataclass
class FakeTelegram:
    token: str = "123456:TEST-token"
    updates: list[dict[str, Any]] = field(default_factory=list)
    messages: dict[tuple[int, int], BotMessage] = field(default_factory=dict)
    sent: list[BotMessage] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    open_queries: dict[str, int] = field(default_factory=dict)
    answered: dict[str, dict[str, str]] = field(default_factory=dict)
    commands: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    webhook: dict[str, str] = field(default_factory=dict)
    # Files users sent (file id → bytes): getFile knows them, /file/bot<token>/ serves them.
    files: dict[str, bytes] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._changed = asyncio.Condition()
        self._last_activity = time.monotonic()
        self.runner: web.AppRunner | None = None
        self.base_url = ""
        self.closing = False

    # --- serving ---------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._dispatch)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}/bot"
        return self.base_url

    async def stop(self) -> None:
        self.closing = True
        await self._notify()  # long polls return at once instead of running out their time
        if self.runner is not None:
            await self.runner.cleanup()

    async def _dispatch(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        self.calls.append(method)
        self._last_activity = time.monotonic()
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401,
                                      "description": "Unauthorized"}, status=401)
        form = dict(await request.post()) if request.can_read_body else {}
        form.update(request.query)
        handler = getattr(self, f"_api_{method}", None)
        try:
            if handler is None:
                raise Refused("Not Found: method not found", 404)
            result = await handler(form)
        except Refused as exc:
            self.refused.append((method, exc.description))
            return web.json_response({"ok": False, "error_code": exc.code,
                                      "description": exc.description}, status=exc.code)
        finally:
            async with self._changed:
                self._changed.notify_all()
        return web.json_response({"ok": True, "result": result})

    async def _download(self, request: web.Request) -> web.Response:
        self.calls.append("download")
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        file_id = request.match_info["path"].rsplit("/", 1)[-1]
        if file_id not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[file_id], content_type="application/pdf")

    # --- Bot API methods -------------------------------------------------------------

    async def _api_getMe(self, form: dict[str, Any]) -> dict[str, Any]:
        return {"id": BOT_ID, "is_bot": True, "first_name": "Alpha Peer",
                "username": BOT_USERNAME, "can_join_groups": True,
                "can_read_all_group_messages": False, "supports_inline_queries": False}

    async def _api_deleteWebhook(self, form: dict[str, Any]) -> bool:
        self.webhook = {}
        return True

    async def _api_setWebhook(self, form: dict[str, Any]) -> bool:
        _check_url(str(form.get("url", "")))
        self.webhook = {"url": str(form["url"]), "secret": str(form.get("secret_token", ""))}
        return True

    async def _api_setMyCommands(self, form: dict[str, Any]) -> bool:
        commands = json.loads(form["commands"])
        for c in commands:
            if not _COMMAND.match(c["command"]) or not 1 <= len(c["description"]) <= 256:
                raise Refused("Bad Request: BOT_COMMAND_INVALID")
        scope = json.loads(form.get("scope") or '{"type": "default"}')
        key = scope["type"] + (f":{scope['chat_id']}" if "chat_id" in scope else "")
        self.commands[key] = commands
        return True

    async def _api_getUpdates(self, form: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook:
            raise Refused("Conflict: can't use getUpdates method while webhook is active", 409)
        offset = int(form.get("offset", 0) or 0)
        timeout = float(form.get("timeout", 0) or 0)
        self.updates = [u for u in self.updates if u["update_id"] >= offset]  # acknowledged
        deadline = time.monotonic() + timeout
        async with self._changed:
            while not self.updates and not self.closing and time.monotonic() < deadline:
                try:
                    await asyncio.wait_for(self._changed.wait(),
                                           timeout=deadline - time.monotonic())
                except TimeoutError:
                    break
        limit = int(form.get("limit", 100) or 100)
        return self.updates[:limit]

    def _text(self, form: dict[str, Any], key: str = "text", limit: int = 4096) -> str:
        raw = str(form.get(key, ""))
        plain = parse_html(raw) if form.get("parse_mode") == "HTML" else raw
        if not plain.strip() and key == "text":
            raise Refused("Bad Request: message text is empty")
        if len(plain) > limit:
            raise Refused("Bad Request: message is too long" if key == "text"
                          else "Bad Request: message caption is too long")
        return plain

    def _new(self, chat_id: int, text: str, markup: dict[str, Any] | None,
             kind: str = "text", file_name: str | None = None,
             file_ref: str | None = None) -> BotMessage:
        ids = self._message_ids.setdefault(chat_id, itertools.count(1))
        message = BotMessage(chat_id, next(ids), text, markup, kind, file_name, file_ref)
        self.messages[(chat_id, message.message_id)] = message
        self.sent.append(message)
        return message

    async def _api_sendMessage(self, form: dict[str, Any]) -> dict[str, Any]:
        text = self._text(form)
        markup = _check_markup(form.get("reply_markup"))
        return self._new(int(form["chat_id"]), text, markup).as_api()

    async def _send_file(self, form: dict[str, Any], field_name: str) -> dict[str, Any]:
        caption = self._text(form, "caption", 1024)
        markup = _check_markup(form.get("reply_markup"))
        upload = form.get(field_name)
        if isinstance(upload, str):  # a file id: only files this bot has seen can be re-sent
            if upload not in self.files:
                raise Refused("Bad Request: wrong file identifier/HTTP URL specified")
            return self._new(int(form["chat_id"]), caption, markup, field_name,
                             None, upload).as_api()
        name = getattr(upload, "filename", None) or "file"
        return self._new(int(form["chat_id"]), caption, markup, field_name, name).as_api()

    async def _api_sendDocument(self, form: dict[str, Any]) -> dict[str, Any]:
        return await self._send_file(form, "document")

    async def _api_sendPhoto(self, form: dict[str, Any]) -> dict[str, Any]:
        return await self._send_file(form, "photo")

    async def _api_editMessageText(self, form: dict[str, Any]) -> dict[str, Any]:
        key = (int(form["chat_id"]), int(form["message_id"]))
        message = self.messages.get(key)
        if message is None:
            raise Refused("Bad Request: message to edit not found")
        text = self._text(form)
        markup = _check_markup(form.get("reply_markup"))
        if text == message.text and markup == message.markup:
            raise Refused("Bad Request: message is not modified: specified new message "
                          "content and reply markup are exactly the same as a current content "
                          "and reply markup of the message")
        message.text, message.markup = text, markup
        return message.as_api()

    async def _api_editMessageReplyMarkup(self, form: dict[str, Any]) -> dict[str, Any]:
        key = (int(form["chat_id"]), int(form["message_id"]))
        message = self.messages.get(key)
        if message is None:
            raise Refused("Bad Request: message to edit not found")
        markup = _check_markup(form.get("reply_markup"))
        if markup == message.markup:
            raise Refused("Bad Request: message is not modified")
        message.markup = markup
        return message.as_api()

    async def _api_answerCallbackQuery(self, form: dict[str, Any]) -> bool:
        query_id = str(form["callback_query_id"])
        if query_id not in self.open_queries:
            raise Refused("Bad Request: query is too old and response timeout expired or "
                          "query ID is invalid")
        if len(str(form.get("text", ""))) > 200:
            raise Refused("Bad Request: MESSAGE_TOO_LONG")
        del self.open_queries[query_id]
        self.answered[query_id] = {k: str(v) for k, v in form.items()}
        return True

    async def _api_getFile(self, form: dict[str, Any]) -> dict[str, Any]:
        file_id = str(form["file_id"])
        if self.files and file_id not in self.files:
            raise Refused("Bad Request: invalid file_id")
        size = len(self.files.get(file_id, b"0123456789"))
        return {"file_id": file_id, "file_unique_id": f"u-{file_id}", "file_size": size,
                "file_path": f"documents/{file_id}"}

    # --- what the test does as a Telegram user ---------------------------------------

    def _user(self, user_id: int, name: str) -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": name, "language_code": "en"}

    def _push(self, update: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": 10_000 + next(self._ids), **update}
        self.updates.append(update)
        self._last_activity = time.monotonic()
        asyncio.get_running_loop().create_task(self._notify())
        return update

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def user_sends(self, user_id: int, text: str, name: str = "Tess") -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": 900_000 + next(self._ids), "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": name},
            "from": self._user(user_id, name), "text": text}
        if text.startswith("/"):
            length = len(text.split(" ", 1)[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return self._push({"message": message})

    def user_sends_document(self, user_id: int, file_name: str, name: str = "Tess",
                            data: bytes = b"%PDF-1.4 notes") -> dict[str, Any]:
        n = next(self._ids)
        self.files[f"up-{n}"] = data
        return self._push({"message": {
            "message_id": 900_000 + n, "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": name},
            "from": self._user(user_id, name),
            "document": {"file_id": f"up-{n}", "file_unique_id": f"uu-{n}",
                         "file_name": file_name, "mime_type": "application/pdf",
                         "file_size": len(data)}}})

    def user_clicks(self, user_id: int, message: BotMessage, label: str,
                    name: str = "Tess") -> dict[str, Any]:
        data = message.button(label)["callback_data"]
        return self.user_presses(user_id, message, data, name)

    def user_presses(self, user_id: int, message: BotMessage, data: str,
                     name: str = "Tess") -> dict[str, Any]:
        query_id = str(500_000 + next(self._ids))
        self.open_queries[query_id] = user_id
        return self._push({"callback_query": {
            "id": query_id, "from": self._user(user_id, name), "chat_instance": "ci",
            "message": message.as_api(), "data": data}})

    # --- what the test reads ---------------------------------------------------------

    def chat(self, chat_id: int) -> list[BotMessage]:
        return [m for (c, _), m in sorted(self.messages.items()) if c == chat_id]

    def last(self, chat_id: int) -> BotMessage:
        mine = self.chat(chat_id)
        assert mine, f"the bot sent nothing to {chat_id}"
        return mine[-1]

    async def settle(self, quiet: float = 0.3, within: float = 20.0) -> None:
        """Wait until the bot fetched every update and made no call for ``quiet`` seconds."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            idle = time.monotonic() - self._last_activity
            if not self.updates_pending and not self.open_queries and idle >= quiet:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"bot did not settle: pending={self.updates_pending} "
                             f"open queries={list(self.open_queries)} calls={self.calls[-5:]}")

    async def wait_for(self, chat_id: int, needle: str, within: float = 30.0) -> BotMessage:
        """The bot's latest message in the chat once it contains ``needle``."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            mine = self.chat(chat_id)
            if mine and needle in mine[-1].text and not self.open_queries:
                return mine[-1]
            await asyncio.sleep(0.05)
        last = self.chat(chat_id)[-1].text if self.chat(chat_id) else None
        raise AssertionError(f"no message with {needle!r}; last was {last!r}; "
                             f"refused={self.refused}")

    @property
    def updates_pending(self) -> int:
        """Updates not yet acknowledged by a later getUpdates offset."""
        return len(self.updates) if not self.webhook else 0
