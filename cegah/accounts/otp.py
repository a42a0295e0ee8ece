"""TOTP helpers: QR codes for enrolment and deterministic secrets for demo users."""

from __future__ import annotations

import hashlib
import hmac

import segno
from django.conf import settings
from django_otp.plugins.otp_totp.models import TOTPDevice


def totp_qr_svg(device: TOTPDevice) -> str:
    """Return an inline SVG QR code of the device's otpauth:// URL (no external request, no JS)."""
    qr = segno.make(device.config_url, error="m")
    return qr.svg_inline(scale=4, dark="#111", light="#fff")


def demo_totp_key(username: str) -> str:
    """Return a hex TOTP key for a demo user, derived from the secret key.

    Derived rather than random so that `cegah demo` can be re-run and still print working codes;
    never used for real users, and `cegah demo` refuses to run in production.
    """
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"demo-totp:{username}".encode(), hashlib.sha256
    )
    return digest.hexdigest()[:40]
