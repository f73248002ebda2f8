"""The embedded default: every email becomes a .eml file in a local folder, and a log line,
so development and demos show exactly what would be sent without sending anything."""

from __future__ import annotations

import asyncio
import logging
import re
from email.message import EmailMessage
from pathlib import Path

log = logging.getLogger("alphapeer.mail")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class FolderTransport:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _write(self, message: EmailMessage) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        stem = _UNSAFE.sub("_", str(message["Message-ID"] or "message").strip("<>"))[:120]
        path = self.folder / f"{stem}.eml"
        path.write_bytes(message.as_bytes())
        return path

    async def send(self, message: EmailMessage) -> None:
        path = await asyncio.to_thread(self._write, message)
        log.info("email to %s: %s (written to %s)", message["To"], message["Subject"], path)
