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


class IndonesianFirstMiddleware:
    """Ignore the browser's Accept-Language on pages, so Indonesian is the default.

    Many phones in Indonesia are set to English and would otherwise get an English site; the language
    switch (a cookie) and the staff user's saved preference still choose English. API clients keep
    Accept-Language, so an English error message is one header away.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/api/"):
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)


class SameOriginNullOriginMiddleware:
    """Let same-origin form posts from no-referrer pages through Django's CSRF origin check.

    With ``Referrer-Policy: no-referrer`` (which reporters' pages need), Chromium sends
    ``Origin: null`` on a same-origin form POST, and Django rejects that before looking at the CSRF
    token. When the browser itself states ``Sec-Fetch-Site: same-origin``, the null origin carries no
    information, so it is dropped and the CSRF token check (always applied) decides.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.META.get("HTTP_ORIGIN") == "null"
            and request.META.get("HTTP_SEC_FETCH_SITE") == "same-origin"
        ):
            del request.META["HTTP_ORIGIN"]
        return self.get_response(request)


class ProxyClientAddressMiddleware:
    """Behind a reverse proxy, take the client's address from ``X-Forwarded-For``.

    Otherwise every request comes from the proxy's own address, and the per-address limits on
    anonymous pages (reports, receipts, survey links, logins) become one bucket for the whole
    country: a WhatsApp invitation blast got 429s. The address the nearest trusted proxy saw is
    the ``CEGAH_PROXY_HOPS``-th entry from the right (entries further left are typed by the
    client and cannot be trusted). The address is only used in memory, for those limits; Cegah
    stores no client address.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        from django.conf import settings

        self.get_response = get_response
        self.hops = settings.CEGAH_PROXY_HOPS

    def __call__(self, request: HttpRequest) -> HttpResponse:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= self.hops:
            request.META["REMOTE_ADDR"] = forwarded[-self.hops]
        return self.get_response(request)
