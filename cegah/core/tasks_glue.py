"""Glue around ``django.tasks``: enqueue on commit, retries with backoff, periodic jobs.

The database backend has no retries and no schedule, so both live here. Tasks take ids and JSON
only and must be idempotent: a retry, or a scheduler tick seen by two workers, may run them twice.
"""

from __future__ import annotations

import functools
import logging
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.tasks import Task, task, task_backends
from django.utils import timezone

logger = logging.getLogger("cegah.tasks")


def enqueue_on_commit(task_obj: Task[..., Any], *args: Any, **kwargs: Any) -> None:
    """Enqueue ``task_obj`` once the current transaction commits (at once if there is none).

    A task enqueued before commit could run against rows that a rollback then removes, or before
    the rows are visible to the worker's connection.
    """
    transaction.on_commit(lambda: task_obj.enqueue(*args, **kwargs))


def backoff_delay(attempt: int, base_seconds: float = 30.0, cap_seconds: float = 3600.0) -> float:
    """Return the delay before attempt ``attempt + 1``: exponential with full jitter, capped."""
    ceiling = min(cap_seconds, base_seconds * (2 ** (attempt - 1)))
    return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - jitter, not a secret


def retrying_task(
    *,
    max_attempts: int | None = None,
    base_seconds: float = 30.0,
    queue_name: str = "default",
    priority: int = 0,
    on_give_up: Callable[..., None] | None = None,
) -> Callable[[Callable[..., Any]], Task[..., Any]]:
    """Decorate a function as a task that re-enqueues itself with backoff when it raises.

    The attempt number travels as the ``_attempt`` keyword. After ``max_attempts`` the exception
    propagates, so the backend records the task as failed; before that, ``on_give_up`` (if
    given) is called with the task's arguments and ``error=`` the exception, to leave the task's
    object in a final state rather than waiting for a retry that will not come.
    """

    def decorate(func: Callable[..., Any]) -> Task[..., Any]:
        @functools.wraps(func)
        def runner(*args: Any, _attempt: int = 1, **kwargs: Any) -> Any:
            limit = max_attempts or settings.TASK_MAX_ATTEMPTS
            try:
                return func(*args, **kwargs)
            except Exception:
                if _attempt >= limit:
                    logger.exception(
                        "task %s failed after %d attempts", func.__qualname__, _attempt
                    )
                    if on_give_up is not None:
                        on_give_up(*args, error=sys.exc_info()[1], **kwargs)
                    raise
                delay = backoff_delay(_attempt, base_seconds)
                logger.warning(
                    "task %s failed (attempt %d of %d); retrying in %.0f s",
                    func.__qualname__,
                    _attempt,
                    limit,
                    delay,
                )
                backend = task_backends[wrapped.backend]
                retry = wrapped
                if backend.supports_defer:
                    retry = wrapped.using(run_after=timezone.now() + timedelta(seconds=delay))
                retry.enqueue(*args, _attempt=_attempt + 1, **kwargs)
                return None

        wrapped: Task[..., Any] = task(queue_name=queue_name, priority=priority)(runner)
        return wrapped

    return decorate


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    task: Task[..., Any]
    every: timedelta


PERIODIC: dict[str, PeriodicJob] = {}


def periodic(every: timedelta) -> Callable[[Task[..., Any]], Task[..., Any]]:
    """Register a task (taking no arguments) to be enqueued by the scheduler every ``every``."""

    def register(task_obj: Task[..., Any]) -> Task[..., Any]:
        PERIODIC[task_obj.module_path] = PeriodicJob(task_obj.module_path, task_obj, every)
        return task_obj

    return register


def run_due_jobs(now: datetime | None = None) -> list[str]:
    """Enqueue every periodic job that is due; return the names enqueued.

    Safe with several workers: a job is claimed by moving its ``next_run_at`` forward with a
    conditional UPDATE, and only the worker whose update matched the old value enqueues it.
    """
    from cegah.core.models import ScheduledJob

    now = now or timezone.now()
    enqueued = []
    for job in PERIODIC.values():
        row, _created = ScheduledJob.objects.get_or_create(
            name=job.name,
            defaults={"interval_seconds": int(job.every.total_seconds()), "next_run_at": now},
        )
        if row.next_run_at > now:
            continue
        claimed = ScheduledJob.objects.filter(pk=row.pk, next_run_at=row.next_run_at).update(
            next_run_at=now + job.every,
            last_run_at=now,
            interval_seconds=int(job.every.total_seconds()),
        )
        if claimed:
            job.task.enqueue()
            enqueued.append(job.name)
    return enqueued
