"""Background tasks: the web upload's import (and the rescoring that follows it), and large
exports of the tender list."""

from __future__ import annotations

from datetime import timedelta

from cegah.core.tasks_glue import periodic, retrying_task


def _give_up(job_id: int, *, error: BaseException) -> None:
    from cegah.procurement.services import give_up_import

    give_up_import(job_id, error)


# A job waits while another process holds the store (an import of national data and its rescoring
# take a quarter of an hour): eight attempts, 20 s apart and doubling, span about half an hour.
@retrying_task(max_attempts=8, base_seconds=20, on_give_up=_give_up)
def import_upload(job_id: int) -> None:
    """Import upload ``job_id`` into the store and rescore (see services.run_import)."""
    from cegah.procurement.services import run_import

    run_import(job_id)


@periodic(every=timedelta(minutes=30))
@retrying_task(max_attempts=2)
def recover_stalled_imports() -> int:
    """Mark failed the imports whose worker stopped mid-way (see services.fail_stalled_imports)."""
    from cegah.procurement.services import fail_stalled_imports

    return fail_stalled_imports()


@retrying_task(max_attempts=3)
def build_tender_export(job_id: int) -> None:
    """Build the XLSX of a tender list asked for by an analyst (see services.build_export)."""
    from cegah.procurement.services import build_export

    build_export(job_id)


@periodic(every=timedelta(hours=1))
@retrying_task(max_attempts=2)
def expire_tender_exports() -> int:
    """Delete prepared exports after a day; fail those whose worker stopped."""
    from cegah.procurement.services import expire_exports

    return expire_exports()
