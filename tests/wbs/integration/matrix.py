"""Access-matrix declarations for integrated WBS.

The handler routes (``wbs_integration:decide``, ``wbs_integration:group_lead``) take only ``slug``
and ``report_id``, whose fillers ``tests/wbs/matrix.py`` already provides; the candidate and the new
lead travel in the POST body and are checked against the handler's own report.

The signed federation endpoints (``api:parameters``, ``api:push_case``, ``api:case_status``,
``api:candidates``, ``api:decide``) are deliberately *not* public routes: an unsigned request gets
401, which the anonymous walk accepts, so they stay under the stricter check.

Note: ``tests/test_access_matrix.py`` loads ``tests/<app>/matrix.py`` for top-level packages only,
so this module is imported from nowhere today; it holds nothing the walk needs.
"""

from __future__ import annotations

from collections.abc import Callable

from tests.conftest import Personas

FILLERS: dict[str, Callable[[Personas], object]] = {}
PUBLIC_ROUTES: set[str] = set()
