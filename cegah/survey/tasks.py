"""Survey tasks: reminders, lagging alerts and the response mixing pool."""

from __future__ import annotations

from datetime import timedelta

from cegah.core.tasks_glue import periodic, retrying_task


@periodic(every=timedelta(hours=1))
@retrying_task(max_attempts=3)
def send_reminders() -> int:
    """Queue due reminders (idempotent: each send is claimed with a conditional UPDATE)."""
    from cegah.survey.services import send_due_reminders

    return send_due_reminders()


@retrying_task(max_attempts=5)
def flush_responses(edition_id: int) -> int:
    from cegah.survey import services

    return services.flush_responses(edition_id)


@periodic(every=timedelta(minutes=30))
@retrying_task(max_attempts=3)
def housekeeping() -> dict[str, int]:
    """Move response pools whose burst check is final, send lagging alerts."""
    from cegah.survey import services
    from cegah.survey.models import Edition, PendingResponse

    moved = 0
    for edition_id in set(PendingResponse.objects.values_list("edition_id", flat=True)):
        moved += services.flush_responses(edition_id)
    alerts = 0
    for edition in Edition.objects.filter(status=Edition.Status.FIELDWORK):
        alerts += services.send_lagging_alerts(edition)
    return {"moved": moved, "alerts": alerts}
