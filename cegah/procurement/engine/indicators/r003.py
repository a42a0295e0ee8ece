"""R003 Short submission period.

Flags a contracting process whose tender period (``tender/tenderPeriod``, both ends RFC 3339
date-times) lasts fewer whole days than the threshold: 15 by default, or the value for its
``procurementMethodDetails`` in ``[R003.procurement_method_details]``. With
``procurement_methods`` set, only those ``procurementMethod`` values are considered. Output: 1.0.

Days are whole days rounded towards zero, like chrono's ``num_days``: 14 days 23:59:59 is 14.
"""

from __future__ import annotations

from ..core import Run

CODE = "R003"


def run(run: Run) -> None:
    """Flag short tender periods."""
    options = run.settings.r003
    details = options.procurement_method_details
    run.flag_process(
        CODE,
        """
        SELECT rowid, 1.0 FROM proc
        WHERE (len($methods) = 0 OR list_contains($methods, pm))
          AND tp_start_us IS NOT NULL AND tp_end_us IS NOT NULL
          AND (tp_end_us - tp_start_us) // 86400000000
              < coalesce(map_extract_value($details, pmd), $threshold)
        """,
        {
            "methods": sorted(options.procurement_methods),
            "details": {"key": list(details), "value": list(details.values())},
            "threshold": options.threshold,
        },
    )
