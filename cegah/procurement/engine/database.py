"""DuckDB connections with bounded memory.

The engine never holds a file's releases in Python: DuckDB reads the JSON lines and keeps the
working tables in its buffer pool, spilling to ``temp_directory`` beyond ``memory_limit``. That is
what keeps peak memory flat as the input grows.
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import threading
import weakref
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

try:
    # DuckDB's compiled core, which the ``duckdb`` package re-exports before adding a relational
    # and expression API in pure Python. The engine uses only connections, their results and the
    # exception classes, all defined here; importing the package instead costs about 0.25 s, a
    # tenth of a 200,000-release run of ``cegah procurement indicators``.
    import _duckdb as duckdb
except ImportError:  # pragma: no cover - a DuckDB release without the separate core module
    import duckdb  # type: ignore[no-redef]

__all__ = [
    "DEFAULT_MEMORY_LIMIT",
    "DatabaseOptions",
    "close",
    "connect",
    "cursor",
    "duckdb",
    "first_row",
    "interrupt_all",
    "memory_limit_bytes",
    "roomy",
    "side_by_side",
    "sql_string",
]

DEFAULT_MEMORY_LIMIT = "600MB"

# Connections that run a list of statements at once (``side_by_side``). Each DuckDB query already
# uses every thread, but only in parts: planning, the last step of an aggregate and the Python in
# between run on one. A second connection fills those gaps.
CONNECTIONS = 2


# Every connection opened by ``connect`` and ``cursor`` and not yet closed or collected, so that
# Ctrl-C can interrupt them (``interrupt_all``). Plain weak references, without the callback a
# WeakSet would run when a connection is collected: Python may run its SIGINT handler inside such
# a callback, and a KeyboardInterrupt raised there is lost ("Exception ignored").
_OPEN: dict[int, weakref.ref[duckdb.DuckDBPyConnection]] = {}
_OPEN_LOCK = threading.Lock()


def _opened(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    with _OPEN_LOCK:
        for key in [key for key, ref in _OPEN.items() if ref() is None]:
            del _OPEN[key]
        _OPEN[id(con)] = weakref.ref(con)
    return con


def interrupt_all() -> None:
    """Interrupt the query running on every connection this module opened; safe from any thread.

    The query then raises ``duckdb.InterruptException``. For Ctrl-C: DuckDB itself only notices a
    signal between two of its tasks, and one task can last the whole reading pass (seconds on a
    large file).
    """
    # Under the lock: a connection must not be closed (``close``) while it is being interrupted.
    with _OPEN_LOCK:
        for ref in list(_OPEN.values()):
            con = ref()
            if con is not None:
                with contextlib.suppress(duckdb.Error):  # already closed
                    con.interrupt()


def close(con: duckdb.DuckDBPyConnection) -> None:
    """Close a connection; never while ``interrupt_all`` is interrupting it."""
    with _OPEN_LOCK:
        ref = _OPEN.get(id(con))
        if ref is not None and ref() is con:
            del _OPEN[id(con)]
        con.close()


@dataclass(frozen=True)
class DatabaseOptions:
    """How to open DuckDB. ``database`` None means an in-memory database.

    Unset values fall back to the environment (``CEGAH_DUCKDB_MEMORY_LIMIT``,
    ``CEGAH_DUCKDB_TEMP_DIRECTORY``), then to the defaults.
    """

    database: str | Path | None = None
    memory_limit: str | None = None
    temp_directory: str | Path | None = None
    threads: int | None = None


def connect(options: DatabaseOptions | None = None) -> duckdb.DuckDBPyConnection:
    """Return a DuckDB connection configured for out-of-core work."""
    options = options or DatabaseOptions()
    con = _opened(duckdb.connect(str(options.database) if options.database else ":memory:"))
    memory = (
        options.memory_limit or os.environ.get("CEGAH_DUCKDB_MEMORY_LIMIT") or DEFAULT_MEMORY_LIMIT
    )
    temp = (
        options.temp_directory
        or os.environ.get("CEGAH_DUCKDB_TEMP_DIRECTORY")
        or Path(tempfile.gettempdir()) / "cegah-duckdb"
    )
    con.execute("SET memory_limit = ?", [memory])
    con.execute("SET temp_directory = ?", [str(temp)])
    _set_session(con)
    # DuckDB draws a progress bar on standard output for long queries, which would corrupt the
    # JSON the CLI prints there.
    con.execute("SET enable_progress_bar = false")
    # CREATE TABLE AS must keep file order: Cardinal's results depend on it in a few places (first
    # currency seen, last duplicate ocid wins, first of equal bids).
    con.execute("SET preserve_insertion_order = true")
    if options.threads:
        con.execute(f"SET threads = {int(options.threads)}")
    return con


def _set_session(con: duckdb.DuckDBPyConnection) -> None:
    """Apply the settings that belong to one connection (the others are the database's)."""
    # Timestamps are compared as instants; a fixed session zone keeps casts of zone-less text
    # deterministic whatever the machine's zone.
    con.execute("SET TimeZone = 'UTC'")


def cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Return a second connection to ``con``'s database, set up like ``con``.

    It sees the database's tables (not ``con``'s temporary ones) and runs its own queries at the
    same time as ``con``; close it (``close``) when done.
    """
    other = _opened(con.cursor())
    _set_session(other)
    return other


def sql_string(value: str | Path) -> str:
    """Return ``value`` as a SQL string literal (for table-function arguments, which cannot be
    prepared-statement parameters)."""
    return "'" + str(value).replace("'", "''") + "'"


def first_row(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    params: Sequence[Any] | Mapping[str, Any] | None = None,
) -> tuple[Any, ...] | None:
    """Return the first row of a query, or None; the result is always consumed.

    (DuckDB refuses new work on a connection while a result is only partly fetched.)
    """
    rows = con.execute(sql, params).fetchall()
    return tuple(rows[0]) if rows else None


_UNITS = {
    "bytes": 1,
    **{f"{p}iB": 1024 ** (i + 1) for i, p in enumerate("KMGTPE")},
    **{f"{p}B": 1000 ** (i + 1) for i, p in enumerate("KMGTPE")},
}


def memory_limit_bytes(con: duckdb.DuckDBPyConnection) -> float:
    """Return DuckDB's memory limit in bytes (it shows it as text, such as "572.2 MiB"); 0 if the
    text cannot be read."""
    row = first_row(con, "SELECT current_setting('memory_limit')")
    try:
        number, unit = str(row[0] if row else "").split()
        return float(number) * _UNITS[unit]
    except (KeyError, ValueError):
        return 0.0  # unknown: taken as no room to spare


def roomy(con: duckdb.DuckDBPyConnection) -> bool:
    """Return whether two queries can run at once without running out of memory.

    That is while nothing has been spilled to disk and the database takes at most a third of the
    memory limit: two large aggregates at once could otherwise need more than the limit, and some
    of their state cannot be spilled. Beyond that, one query at a time (the limit is what keeps
    peak memory flat as files grow).
    """
    row = first_row(
        con,
        "SELECT sum(memory_usage_bytes), sum(temporary_storage_bytes) FROM duckdb_memory()",
    )
    used, spilled = (int(v or 0) for v in row) if row else (0, 0)
    return spilled == 0 and used <= memory_limit_bytes(con) / 3


@contextlib.contextmanager
def _ctrl_c_held() -> Iterator[None]:
    """Hold back Python's SIGINT handler (Ctrl-C) until the block ends; in the main thread only.

    ``side_by_side`` starts and joins a thread in such a block. A KeyboardInterrupt raised inside
    ``Thread.start()`` or ``Thread.join()`` can leave the thread running unseen (in Python 3.12 a
    join interrupted while the thread runs marks it finished), and its connection then cannot be
    closed ("connection is busy"); at exit the process aborts. The handler held back runs as the
    block ends. To stop the queries meanwhile, the caller interrupts them from another thread
    (``interrupt_all``), as the CLI does; otherwise Ctrl-C waits for the tasks to finish.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[tuple[int, FrameType | None]] = []
    previous = signal.getsignal(signal.SIGINT)
    if previous is None:  # not set from Python: cannot be put back
        yield
        return
    signal.signal(signal.SIGINT, lambda signum, frame: held.append((signum, frame)))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if held:
            if callable(previous):
                previous(*held[0])
            elif previous == signal.SIG_DFL:
                signal.raise_signal(signal.SIGINT)


def side_by_side(
    con: duckdb.DuckDBPyConnection,
    tasks: Sequence[Callable[[duckdb.DuckDBPyConnection], None]],
    connections: int | None = None,
    after: Mapping[int, Collection[int]] | None = None,
) -> None:
    """Run ``tasks`` on ``con`` and on a second connection to its database, at once.

    Each task is called with the connection to use. Tasks are handed out in order to whichever
    connection is free, so the slowest should come first; ``after`` maps a task's index to those
    of earlier tasks it needs finished first (a connection takes the next task that is ready
    meanwhile). ``connections`` defaults to 2, or to 1 when DuckDB may use only one thread or
    when memory is short (see ``roomy``). The first error stops the handing out, interrupts the
    other connection and is raised once both have stopped. Ctrl-C is held back meanwhile, and
    takes effect once both have stopped (see ``_ctrl_c_held``).
    """
    needs = {i: frozenset(earlier) for i, earlier in (after or {}).items()}
    if any(not 0 <= j < i for i, earlier in needs.items() for j in earlier):
        raise ValueError("a task can only wait for an earlier task")
    if connections is None:
        row = first_row(con, "SELECT current_setting('threads')")
        connections = min(CONNECTIONS, int(row[0]) if row else 1) if roomy(con) else 1
    if connections <= 1 or len(tasks) <= 1:
        for task in tasks:
            task(con)
        return
    waiting = list(range(len(tasks)))
    done: set[int] = set()
    errors: list[BaseException] = []
    changed = threading.Condition()

    def take() -> int | None:
        with changed:
            while waiting and not errors:
                for i in waiting:
                    if needs.get(i, frozenset()) <= done:
                        waiting.remove(i)
                        return i
                changed.wait()
            return None

    def work(on: duckdb.DuckDBPyConnection) -> None:
        try:
            while (i := take()) is not None:
                tasks[i](on)
                with changed:
                    done.add(i)
                    changed.notify_all()
        except BaseException as exc:  # re-raised by the calling thread, below
            with changed:
                errors.append(exc)
                changed.notify_all()

    with _ctrl_c_held():
        other = cursor(con)
        try:
            # Not a daemon thread: were it still in DuckDB at exit, Python would wait for it
            # rather than end it there, which aborts the process.
            helper = threading.Thread(target=work, args=(other,), name="cegah-duckdb")
            helper.start()
            try:
                work(con)
            finally:
                if errors:
                    other.interrupt()
                helper.join()
        finally:
            close(other)
    if errors:
        raise errors[0]
