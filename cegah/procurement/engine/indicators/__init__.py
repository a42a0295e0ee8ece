"""Cardinal's red-flag indicators, one module each, all with the same shape.

Each module has ``CODE`` and ``run(run: Run) -> None``, which inserts its results into the ``flag``
table (and ``mapping`` for ``--map``) and records its quartiles and fences in ``run.meta``.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

from ..core import SUBMITTED, Run
from ..database import duckdb, side_by_side
from ..result import prepare_ocid_members
from . import bidratio, r003, r018, r024, r025, r028, r030, r035, r036, r038, r048, r058

# Cardinal's order, which is also the order of its Meta and of first results.
CARDINAL: tuple[ModuleType, ...] = (
    r003,
    r018,
    r024,
    r025,
    r028,
    r030,
    r035,
    r036,
    r038,
    r048,
    r058,
)

# The order in which the indicators are handed to the two connections: the slowest first
# (measured on 200,000 synthetic releases), so that both finish at about the same time; those with
# OCID results before those without, so that the OCID group can be formatted while the last ones
# run. R024 and R058 follow bidratio, whose table they read, on the same connection.
WITH_OCID: tuple[ModuleType, ...] = (r028, r036, r035, r018, r003, r030)
WITHOUT_OCID: tuple[ModuleType, ...] = (r038, r048, r025)

Step = Callable[[Run], None]


def run_cardinal(run: Run, *, prepare_output: bool = False) -> None:
    """Run the enabled Cardinal indicators, two at a time (see ``database.side_by_side``).

    ``prepare_output``: also format the OCID group for ``IndicatorResult.write_json`` (see
    ``result.prepare_ocid_members``), once the last OCID result is in; only for a run that adds
    no results after these.
    """
    enabled = run.settings.enabled
    tasks: list[Callable[[duckdb.DuckDBPyConnection], None]] = []

    def task(*steps: Step) -> Callable[[duckdb.DuckDBPyConnection], None]:
        def on(con: duckdb.DuckDBPyConnection) -> None:
            for step in steps:
                step(run.on(con))

        return on

    if {"R024", "R058"} & enabled:
        tasks.append(task(bidratio.run, *(m.run for m in (r024, r058) if m.CODE in enabled)))
    tasks.extend(task(module.run) for module in WITH_OCID if module.CODE in enabled)
    after = {}
    if prepare_output:
        after[len(tasks)] = range(len(tasks))
        tasks.append(prepare_ocid_members)
    tasks.extend(task(module.run) for module in WITHOUT_OCID if module.CODE in enabled)
    if run.map and {"R025", "R038", "R048"} & enabled:
        tasks.append(task(_map_tenderers))
    if {"R024", "R058", "R036"} & enabled:
        run.currency  # noqa: B018 - chosen once, before the connections share it
    side_by_side(run.con, tasks, after=after)


def _map_tenderers(run: Run) -> None:
    """``ocid_tenderer``: the tenderers of each process's submitted bids."""
    run.add_map(
        f"""SELECT DISTINCT 'ocid_tenderer', rid, id FROM bid_tenderer
        WHERE {SUBMITTED} AND id IS NOT NULL"""
    )
