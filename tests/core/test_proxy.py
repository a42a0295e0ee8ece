"""Behind a reverse proxy, the per-client limits see the client, not the proxy."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from cegah.core.middleware import ProxyClientAddressMiddleware


def _seen(settings, hops: int, forwarded: str | None) -> str:
    settings.CEGAH_PROXY_HOPS = hops
    seen: list[str] = []

    def view(request: HttpRequest) -> HttpResponse:
        seen.append(request.META["REMOTE_ADDR"])
        return HttpResponse()

    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", **extra)
    ProxyClientAddressMiddleware(view)(request)
    return seen[0]


@pytest.mark.parametrize(
    ("hops", "forwarded", "client"),
    [
        (1, "198.51.100.7", "198.51.100.7"),
        # what the client typed itself is left of what the proxy appended
        (1, "10.9.9.9, 198.51.100.7", "198.51.100.7"),
        (2, "10.9.9.9, 198.51.100.7, 192.0.2.1", "198.51.100.7"),
        (1, None, "127.0.0.1"),
        (2, "198.51.100.7", "127.0.0.1"),  # fewer entries than proxies: not trusted
    ],
)
def test_client_address_is_the_one_the_nearest_trusted_proxy_saw(
    settings, hops: int, forwarded: str | None, client: str
) -> None:
    assert _seen(settings, hops, forwarded) == client


def _first_middleware(env: dict[str, str]) -> str:
    root = Path(__file__).resolve().parents[2]
    code = (
        "import django; django.setup(); from django.conf import settings;"
        " print(settings.MIDDLEWARE[0])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=root,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "cegah.settings", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def test_only_a_declared_proxy_is_trusted() -> None:
    proxy = "cegah.core.middleware.ProxyClientAddressMiddleware"
    assert _first_middleware({"CEGAH_BEHIND_PROXY": "true"}) == proxy
    assert _first_middleware({"CEGAH_BEHIND_PROXY": "false"}) != proxy
