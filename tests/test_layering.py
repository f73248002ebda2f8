"""The dependency direction of HOUSE_STYLE §1, enforced by reading imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHAT_AND_WEB = {"telegram", "discord", "aiohttp", "simcord", "aiosmtplib"}
SIBLINGS = {"handlers", "bots", "payments", "scheduling", "web_callbacks", "alphapeer", "mail",
            "video", "ai"}
FORBIDDEN = {
    "core": CHAT_AND_WEB | SIBLINGS,
    "handlers": CHAT_AND_WEB | {"bots", "payments", "scheduling", "web_callbacks", "alphapeer",
                                "mail", "video", "ai"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_what_its_layer_allows(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imports(path) & FORBIDDEN[package])
        for path in (ROOT / package).rglob("*.py")
        if _imports(path) & FORBIDDEN[package]
    }
    assert offenders == {}


@pytest.mark.parametrize("package", ["core", "handlers"])
def test_package_never_reads_the_environment_after_start_up(package: str) -> None:
    readers = [str(p.relative_to(ROOT)) for p in (ROOT / package).rglob("*.py")
               if "os.environ" in p.read_text() or "getenv" in p.read_text()]
    assert readers == (["core/config.py"] if package == "core" else [])


def test_layering_check_catches_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import telegram\nfrom aiohttp import web\nfrom handlers import flow\n")
    assert _imports(bad) & FORBIDDEN["core"] == {"telegram", "aiohttp", "handlers"}
