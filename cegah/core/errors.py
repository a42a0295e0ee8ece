"""Error pages; API paths get the API's JSON error shape instead of HTML."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_noop


def _api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _api(request):
        from cegah.api.errors import error_response

        return error_response(request, 404, "not_found", gettext_noop("Not found."))
    return render(request, "404.html", status=404)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if exception is not None and exception.__class__.__name__ == "Ratelimited":
        from cegah.core.views import ratelimited

        return ratelimited(request, exception)
    if _api(request):
        from cegah.api.errors import error_response

        return error_response(request, 403, "forbidden", gettext_noop("Forbidden."))
    return render(request, "403.html", status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    if _api(request):
        from cegah.api.errors import error_response

        return error_response(request, 500, "server_error", gettext_noop("Server error."))
    return render(request, "500.html", status=500)
