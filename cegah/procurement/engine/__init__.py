"""Cegah's procurement red-flag engine: Cardinal's indicators (and ours) on OCDS JSON lines.

Django-free. DuckDB reads the file and computes the indicators in SQL; see ``compute``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from .core import Run, load, load_store
from .database import DatabaseOptions, close, connect, sql_string
from .indicators import run_cardinal
from .indonesia import run_indonesian
from .result import IndicatorResult
from .settings import Settings, SettingsError, load_settings, parse_settings

__all__ = [
    "DatabaseOptions",
    "IndicatorResult",
    "Settings",
    "SettingsError",
    "compute",
    "compute_store",
    "load_settings",
    "parse_settings",
]


def compute(
    path: str | Path,
    settings: Settings | None = None,
    *,
    map: bool = False,
    indonesian: bool = False,
    database: DatabaseOptions | None = None,
) -> IndicatorResult:
    """Compute the enabled indicators on a JSON lines file of OCDS compiled releases.

    ``settings`` None enables every Cardinal indicator with its defaults. ``indonesian`` adds the
    Indonesian indicators (ID01–ID13), which need the file imported into a (temporary) store
    first. Returns an IndicatorResult, which the caller must close. Raises FileNotFoundError, or
    duckdb.Error if DuckDB cannot read the file.
    """
    settings = Settings.all_cardinal() if settings is None else settings
    con = connect(database)
    try:
        releases = load(con, path, settings)
        run = Run(con=con, settings=settings, map=map)
        run_cardinal(run, prepare_output=not indonesian)
        if indonesian:
            from .store import Store

            with tempfile.TemporaryDirectory(prefix="cegah-store-") as tmp:
                store_path = Path(tmp) / "store.duckdb"
                with Store(store_path) as store:
                    store.import_ocds(path)
                con.execute(f"ATTACH {sql_string(store_path)} AS store (READ_ONLY)")
                run_indonesian(run)
                con.execute("DETACH store")
    except BaseException:
        close(con)
        raise
    return _result(run, releases, prepared=not indonesian)


def compute_store(
    store: str | Path,
    settings: Settings | None = None,
    *,
    map: bool = False,
    indonesian: bool = False,
    database: DatabaseOptions | None = None,
) -> IndicatorResult:
    """Compute the indicators on the processes of a procurement store (see ``store.Store``).

    Same as ``compute`` otherwise; R030's ``compare = text`` sees timestamps as the store writes
    them (UTC), not as published. Raises FileNotFoundError.
    """
    settings = Settings.all_cardinal() if settings is None else settings
    con = connect(database)
    try:
        releases = load_store(con, store, settings)
        run = Run(con=con, settings=settings, map=map)
        run_cardinal(run, prepare_output=not indonesian)
        if indonesian:
            run_indonesian(run)
    except BaseException:
        close(con)
        raise
    return _result(run, releases, prepared=not indonesian)


def _result(run: Run, releases: int, *, prepared: bool) -> IndicatorResult:
    """Return the IndicatorResult of a finished run (``prepared``: see ``run_cardinal``)."""
    return IndicatorResult(
        con=run.con,
        meta=run.meta,
        releases=releases,
        map=run.map,
        codes=tuple(sorted(run.settings.enabled)),
        prepared=prepared,
    )
