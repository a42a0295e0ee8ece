"""The JSON API at /api/v1, with its OpenAPI schema at /api/v1/openapi.json.

Each app with an ``api`` module exposing ``router`` is mounted at ``/api/v1/<prefix>/`` where the
prefix is the router's ``PREFIX`` attribute, so a new module adds endpoints without touching this file.
"""

from __future__ import annotations

import importlib
from typing import Any

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext_noop
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from cegah.api.errors import error_response

api = NinjaAPI(
    title="Cegah API",
    version="1",
    description=(
        "Cegah's JSON API. Machine clients authenticate with an organisation token: "
        "`Authorization: Bearer cgh_…`. Every error has the shape "
        '`{"error": {"code", "message", "details"}}`.'
    ),
    urls_namespace="api",
)


@api.exception_handler(ValidationError)
def _validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    details = []
    for err in exc.errors:
        loc = ".".join(str(part) for part in err.get("loc", ()))
        details.append({"field": loc, "message": err.get("msg", "")})
    return error_response(
        request, 422, "invalid", gettext_noop("The request is not valid."), details
    )


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(
        request, 401, "unauthenticated", gettext_noop("A valid API token is required.")
    )


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, 404, "not_found", gettext_noop("Not found."))


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    if exc.__class__.__name__ == "Ratelimited":
        return error_response(
            request, 429, "rate_limited", gettext_noop("Too many requests. Try again later.")
        )
    return error_response(request, 403, "forbidden", gettext_noop("Forbidden."))


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    codes = {
        400: "bad_request",
        401: "unauthenticated",
        403: "forbidden",
        404: "not_found",
        409: "conflict",
        429: "rate_limited",
    }
    return error_response(request, exc.status_code, codes.get(exc.status_code, "error"), str(exc))


def _mount_app_routers() -> None:
    for config in apps.get_app_configs():
        if not config.name.startswith("cegah."):
            continue
        try:
            module: Any = importlib.import_module(f"{config.name}.api")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.api":
                raise
            continue
        api.add_router(module.PREFIX, module.router)


_mount_app_routers()
