"""Write beside a long read: a few queries on a database connection of their own.

A job that streams a large query (``QuerySet.iterator``) holds a read snapshot on its connection
until the last row. On SQLite, a write on that same connection then fails at once with "database
is locked" as soon as any other process has written meanwhile (the snapshot is stale, and WAL
cannot upgrade it; the busy timeout does not apply). Progress reports written while streaming
must therefore go through another connection: ``apart`` runs them in a short-lived thread, which
Django gives its own connection, closed when the thread ends. On PostgreSQL this costs one
connection per call and changes nothing else.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connections


def apart[T](work: Callable[[], T]) -> T:
    """Run ``work`` on a database connection of its own, wait for it and return its result (or
    raise its exception)."""
    outcome: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(work())
        except BaseException as exc:  # raised again by the calling thread, below
            errors.append(exc)
        finally:
            connections.close_all()  # this thread's connections only

    thread = threading.Thread(target=run, name="cegah-db-apart")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return outcome[0]
