"""Periodic housekeeping jobs of the core app."""

from __future__ import annotations

import logging
from datetime import timedelta

from cegah.core.tasks_glue import periodic, retrying_task

logger = logging.getLogger("cegah.audit")


@periodic(every=timedelta(hours=6))
@retrying_task(max_attempts=3)
def verify_audit_chain() -> dict[str, object]:
    """Verify the audit chain and log loudly if it is broken; return the result as JSON."""
    from cegah.core.audit import verify_chain

    result = verify_chain()
    if not result.ok:
        logger.error(
            "audit chain broken at entry %s (%s) after %d good entries",
            result.broken_id,
            result.reason,
            result.checked,
        )
    return {"ok": result.ok, "checked": result.checked, "broken_id": result.broken_id}


@periodic(every=timedelta(days=1))
@retrying_task(max_attempts=3)
def prune_task_results() -> None:
    """Delete finished task results older than 14 days so the task table stays small."""
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    cutoff = timezone.now() - timedelta(days=14)
    DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()  # type: ignore[attr-defined]
