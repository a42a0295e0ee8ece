"""Enforce the second factor for users whose roles require it."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from cegah.accounts.permissions import requires_two_factor

# Paths a half-logged-in user may still reach: the 2FA pages themselves, logout, language, assets.
EXEMPT_PREFIXES = ("/static/", "/i18n/", "/api/")


class TwoFactorRequiredMiddleware:
    """Send a signed-in user who needs 2FA but has not passed it to set-up or verification.

    A middleware rather than a decorator, so that a view added later cannot forget it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not user.is_verified()  # type: ignore[union-attr]
            and not request.path.startswith(EXEMPT_PREFIXES)
            and request.path
            not in {
                reverse("accounts:otp_setup"),
                reverse("accounts:otp_verify"),
                reverse("accounts:logout"),
            }
            and requires_two_factor(user)
        ):
            from django_otp import user_has_device

            target = "accounts:otp_verify" if user_has_device(user) else "accounts:otp_setup"
            return redirect(f"{reverse(target)}?next={request.get_full_path()}")
        return self.get_response(request)
