"""Engine and session factory. The schema is created on first start (no migrations yet: version 1)."""
from __future__ import annotations

from sqlalchemy import event, inspect
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.models import Base


class DatabaseError(Exception):
    """The database cannot be reached or initialised; the message says which URL and why."""


def make_engine(url: str) -> AsyncEngine:
    kwargs: dict = {}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 30}
    engine = create_async_engine(url, **kwargs)
    if url.startswith("sqlite"):
        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn, _record):  # WAL: readers don't block the writer; durable on kill -9
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()
    return engine


async def init_database(url: str) -> tuple[AsyncEngine, async_sessionmaker[AsyncSession]]:
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
            missing = await conn.run_sync(_missing_columns)
    except Exception as exc:  # noqa: BLE001 - reported to the operator with the URL, then the caller exits
        await engine.dispose()
        safe = url.split("@")[-1] if "@" in url else url
        raise DatabaseError(f"DATABASE_URL: cannot open {safe}: {exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from exc
    if missing:
        await engine.dispose()
        raise DatabaseError(f"DATABASE_URL: this database was created by an older Tocsin (missing {', '.join(missing[:5])}). "
                            "There are no migrations yet: back it up, then start with an empty database.")
    return engine, async_sessionmaker(engine, expire_on_commit=False)


def _missing_columns(sync_conn) -> list[str]:
    """create_all adds missing tables, not missing columns: find columns an older schema lacks."""
    inspector = inspect(sync_conn)
    missing = []
    for table in Base.metadata.sorted_tables:
        present = {c["name"] for c in inspector.get_columns(table.name)}
        missing += [f"{table.name}.{c.name}" for c in table.columns if c.name not in present]
    return missing
