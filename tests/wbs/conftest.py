"""Fixtures for the whistleblowing tests: an organisation with its report key set up, and clients
logged in through the real login view so the member's key is open in the session."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from cegah.accounts.models import User
from cegah.orgs.models import Organisation
from cegah.wbs import keys, services
from tests.conftest import Personas

PASSWORD = "correct horse battery 9"


def login_with_keys(user: User, password: str = PASSWORD) -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"username": user.username, "password": password})
    assert response.status_code == 302, response.content[:500]
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, name="test", defaults={"confirmed": True}
    )
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def wbs(personas: Personas) -> Personas:
    """The victim organisation accepts reports; its handler holds a key share."""
    keys.unlock_user_key(personas.handler, PASSWORD)
    keys.unlock_user_key(personas.admin, PASSWORD)
    personas.recovery = keys.set_up_org_key(personas.org, personas.admin)  # type: ignore[attr-defined]
    other = personas.other_org
    other.accepts_reports = True
    other.save(update_fields=["accepts_reports"])
    keys.set_up_org_key(other, None)
    return personas


@pytest.fixture
def handler_client(wbs: Personas) -> Client:
    return login_with_keys(wbs.handler)


@pytest.fixture
def submit(wbs: Personas) -> Callable[..., services.Submitted]:
    def make(
        org: Organisation | None = None,
        files: list[services.IncomingFile] | None = None,
        **fields: object,
    ) -> services.Submitted:
        data = services.ReportInput(
            category=str(fields.pop("category", "pemerasan")),
            description=str(
                fields.pop("description", "Petugas meminta uang pelicin untuk izin usaha di loket.")
            ),
            **fields,  # type: ignore[arg-type]
        )
        return services.submit_report(org or wbs.org, data, files or [])

    return make


def form_token(client: Client, url: str) -> str:
    """The one-time token of the report form at ``url``, as a browser gets it with the page."""
    import re

    page = client.get(url).content.decode()
    match = re.search(r'name="submission" value="([^"]+)"', page)
    assert match is not None, "no submission token on the form"
    return match.group(1)
