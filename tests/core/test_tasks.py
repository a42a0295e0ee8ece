from datetime import timedelta

import pytest
from django.db import transaction
from django.tasks import task
from django.utils import timezone

from cegah.core.models import ScheduledJob
from cegah.core.tasks_glue import (
    PERIODIC,
    PeriodicJob,
    backoff_delay,
    enqueue_on_commit,
    retrying_task,
    run_due_jobs,
)

CALLS: list[str] = []


@task()
def note(value: str) -> None:
    CALLS.append(value)


@task()
def tick() -> None:
    CALLS.append("tick")


ATTEMPTS = {"n": 0}


@retrying_task(max_attempts=3)
def flaky(fail_times: int) -> str:
    ATTEMPTS["n"] += 1
    if ATTEMPTS["n"] <= fail_times:
        raise RuntimeError("temporary")
    return "done"


@pytest.fixture(autouse=True)
def _reset() -> None:
    CALLS.clear()
    ATTEMPTS["n"] = 0


def test_enqueue_on_commit_waits_for_commit(db: None, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        enqueue_on_commit(note, "x")
        assert CALLS == []
    assert CALLS == ["x"]


def test_enqueue_on_commit_dropped_on_rollback(
    db: None, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                enqueue_on_commit(note, "y")
                raise RuntimeError("rollback")
        except RuntimeError:
            pass
    assert CALLS == []


def test_retrying_task_retries_until_success(db: None) -> None:
    flaky.enqueue(2)
    assert ATTEMPTS["n"] == 3


def test_retrying_task_gives_up_after_max_attempts(db: None) -> None:
    result = flaky.enqueue(10)
    assert ATTEMPTS["n"] == 3
    # The immediate backend records the last attempt's failure on the innermost result; the outer
    # enqueue returns once the retries have run.
    assert result is not None


def test_backoff_grows_and_is_capped() -> None:
    assert backoff_delay(1, 30) <= 30
    assert backoff_delay(5, 30) >= 240
    assert backoff_delay(50, 30, cap_seconds=3600) <= 3600


def test_periodic_job_is_claimed_once_per_interval(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "cegah.core.tasks_glue.PERIODIC", {"t": PeriodicJob("t", tick, timedelta(minutes=5))}
    )
    now = timezone.now()
    assert run_due_jobs(now) == ["t"]
    assert run_due_jobs(now) == []
    assert run_due_jobs(now + timedelta(minutes=4)) == []
    assert run_due_jobs(now + timedelta(minutes=6)) == ["t"]
    assert CALLS == ["tick", "tick"]
    assert ScheduledJob.objects.get(name="t").next_run_at > now


def test_core_periodic_jobs_are_registered() -> None:
    names = set(PERIODIC)
    assert "cegah.core.tasks.verify_audit_chain" in names
