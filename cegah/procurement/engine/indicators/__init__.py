"""Cardinal's red-flag indicators, one module each, all with the same shape.

Each module has ``CODE`` and ``run(run: Run) -> None``, which inserts its results into the ``flag``
table (and ``mapping`` for ``--map``) and records its quartiles and fences in ``run.meta``.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

from ..core import SUBMITTED, Run
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


def run_cardinal(run: Run) -> None:
    """Run the enabled Cardinal indicators."""
    enabled = run.settings.enabled
    steps: list[Callable[[Run], None]] = []
    if {"R024", "R058"} & enabled:
        steps.append(bidratio.run)
    if run.map and {"R025", "R038", "R048"} & enabled:
        steps.append(_map_tenderers)
    steps.extend(module.run for module in CARDINAL if module.CODE in enabled)
    for step in steps:
        step(run)


def _map_tenderers(run: Run) -> None:
    """``ocid_tenderer``: the tenderers of each process's submitted bids."""
    run.add_map(
        f"""SELECT DISTINCT 'ocid_tenderer', rid, id FROM bid_tenderer
        WHERE {SUBMITTED} AND id IS NOT NULL"""
    )
