"""One error shape for every API error:

    {"error": {"code": "not_found", "message": "Not found.", "details": [...]}}

``details`` lists field errors as {"field": "body.name", "message": "..."} where there are any.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _


def error_response(
    request: HttpRequest,
    status: int,
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
) -> JsonResponse:
    body = {"error": {"code": code, "message": _(message), "details": details or []}}
    return JsonResponse(body, status=status)
