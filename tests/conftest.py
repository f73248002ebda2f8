"""Test wiring: every database test runs on SQLite, and on PostgreSQL when
``TEST_DATABASE_URL`` is set (a fresh database is created for the run and dropped after)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from alphapeer import migrate
from alphapeer.scratchdb import scratch_database
from core.clock import FrozenClock
from core.config import Settings, load_settings
from core.db import Base, create_engine
from core.models import User
from core.uow import Database
from handlers.commands import build_registry
from handlers.dispatcher import Dispatcher
from tests.fakechat import FakeChat
from tests.mail_env import mail  # noqa: F401  (the "mail" fixture)
from tests.stripe_env import stripe_env  # noqa: F401  (the "env" fixture)
from tests.world import World, add_person, build_world

ROOT = Path(__file__).resolve().parent.parent
# A Monday morning, far from any DST change.
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
PG_URL = os.environ.get("TEST_DATABASE_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


def make_settings(url: str, data_dir: Path, **extra: str) -> Settings:
    env = {"ALPHAPEER_APP_ENV": "test", "ALPHAPEER_SECRET_KEY": "t" * 48,
           "ALPHAPEER_DATABASE_URL": url, "ALPHAPEER_APP_DATA_DIR": str(data_dir), **extra}
    return load_settings(ROOT / "config.toml", env=env)


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
async def database_url(backend: str,
                       tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    async with scratch_database(backend, tmp_path_factory.mktemp("db"), PG_URL) as url:
        yield url


@pytest.fixture(scope="session")
async def migrated_db(database_url: str,
                      tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Database]:
    settings = make_settings(database_url, tmp_path_factory.mktemp("data"))
    engine = create_engine(database_url, pool_size=10)
    await migrate.upgrade(engine)
    yield Database(engine, FrozenClock(T0), settings)
    await engine.dispose()


async def _wipe(db: Database) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    async with db.engine.begin() as conn:
        if db.engine.dialect.name == "postgresql":
            await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            # The ledger's append-only triggers refuse DELETE: set them aside while wiping.
            guards = (await conn.execute(text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                "AND name LIKE 'ledger%_no_%'"))).all()
            for name, _sql in guards:
                await conn.execute(text(f"DROP TRIGGER {name}"))
            for table in tables:
                await conn.execute(text(f"DELETE FROM {table}"))
            for _name, sql in guards:
                await conn.execute(text(sql))


@pytest.fixture
async def db(migrated_db: Database) -> AsyncIterator[Database]:
    """A migrated, empty database whose clock is frozen at ``T0``."""
    await _wipe(migrated_db)
    assert isinstance(migrated_db.clock, FrozenClock)
    migrated_db.clock.set(T0)
    yield migrated_db


@pytest.fixture
def clock(db: Database) -> FrozenClock:
    assert isinstance(db.clock, FrozenClock)
    return db.clock


@pytest.fixture
def dispatcher(db: Database) -> Dispatcher:
    return Dispatcher(db, build_registry())


@pytest.fixture
async def world(db: Database) -> World:
    """A creator, two teachers in different zones, a published course, two students."""
    return await build_world(db)


@pytest.fixture
def chat(dispatcher: Dispatcher) -> Iterator[FakeChat]:
    """A chat as the world's student Sam (onboarded, Berlin time)."""
    yield FakeChat(dispatcher, "sam")


@pytest.fixture
def chat_as(dispatcher: Dispatcher):  # type: ignore[no-untyped-def]
    def make(user_key: str, name: str | None = None) -> FakeChat:
        return FakeChat(dispatcher, user_key, name)
    return make


@pytest.fixture
async def admin(db: Database, world: World) -> User:
    """Brian, the platform's admin (with the world around him)."""
    async with db.uow() as uow:
        return await add_person(uow, "brian", "Brian", "Europe/London", "admin")
