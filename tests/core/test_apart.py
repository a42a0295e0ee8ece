"""``apart``: queries on a connection of their own, beside a long read on the caller's."""

from __future__ import annotations

import pytest
from django.db import connections
from django.utils import timezone

from cegah.core.apart import apart
from cegah.core.models import ScheduledJob


@pytest.mark.django_db(transaction=True)
def test_work_runs_on_another_connection_and_its_writes_are_seen() -> None:
    mine = connections["default"]
    assert apart(lambda: connections["default"]) is not mine
    created = apart(
        lambda: ScheduledJob.objects.create(
            name="apart", interval_seconds=60, next_run_at=timezone.now()
        )
    )
    assert ScheduledJob.objects.get(name="apart").pk == created.pk


def test_errors_come_back_to_the_caller() -> None:
    def fail() -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        apart(fail)
