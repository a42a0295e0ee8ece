"""Background tasks: the web upload's import (and the rescoring that follows it)."""

from __future__ import annotations

from cegah.core.tasks_glue import retrying_task


@retrying_task(max_attempts=5, base_seconds=20)
def import_upload(job_id: int) -> None:
    """Import upload ``job_id`` into the store and rescore (see services.run_import)."""
    from cegah.procurement.services import run_import

    run_import(job_id)
