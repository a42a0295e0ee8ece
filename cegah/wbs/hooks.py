"""Extension points of the whistleblowing module for modules built on it (duplicate detection,
channels, federation).

- ``INTAKE_HOOKS``: called as ``hook(report, data)`` inside the submission's transaction, after the
  report row exists and while the plaintext ``ReportInput`` is in memory. Store only derived values
  (never plaintext). An exception rolls the submission back.
- ``CASE_PANELS``: called as ``panel(request, report)`` when a handler opens a case; return
  ``(template_name, context)`` to show a panel on the case page, or None.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest

if TYPE_CHECKING:
    from cegah.wbs.models import Report
    from cegah.wbs.services import ReportInput

IntakeHook = Callable[["Report", "ReportInput"], None]
CasePanel = Callable[[HttpRequest, "Report"], tuple[str, dict[str, Any]] | None]

INTAKE_HOOKS: list[IntakeHook] = []
CASE_PANELS: list[CasePanel] = []
