"""Response hardening for pages that must not be cached or leak through the Referer."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

SENSITIVE_ATTR = "cegah_sensitive"


def sensitive_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Mark a public view (reporter, respondent) as sensitive: no-store and no-referrer."""
    setattr(view, SENSITIVE_ATTR, True)
    return view


class SensitivePageMiddleware:
    """Add ``Cache-Control: no-store`` and ``Referrer-Policy: no-referrer``.

    Applied to every response for a signed-in user, every API response, and every view marked with
    ``@sensitive_page``: a shared computer's browser cache or a proxy must not keep case data.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        sensitive = getattr(request, "_cegah_sensitive", False)
        user = getattr(request, "user", None)
        if (
            sensitive
            or (user is not None and user.is_authenticated)
            or request.path.startswith("/api/")
        ):
            add_never_cache_headers(response)
            response["Cache-Control"] = "no-store, no-cache, must-revalidate, private, max-age=0"
        response["Referrer-Policy"] = "no-referrer"
        return response

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponse],
        args: object,
        kwargs: object,
    ) -> None:
        if getattr(view_func, SENSITIVE_ATTR, False):
            request._cegah_sensitive = True  # type: ignore[attr-defined]
