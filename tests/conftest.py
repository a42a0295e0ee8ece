"""Persona fixtures shared by every test: an organisation with its admin, handler and read-only
member, and an outsider who is admin of another organisation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from cegah.accounts.models import Membership, User
from cegah.accounts.permissions import Role
from cegah.orgs.models import Organisation

# Appears in every name of the victim organisation's objects. The access matrix asserts that no
# response to an outsider ever contains it.
CANARY = "KANARI7731"


@dataclass
class Personas:
    org: Organisation
    other_org: Organisation
    admin: User
    handler: User
    viewer: User
    outsider: User


def make_user(username: str, org: Organisation, *roles: str) -> User:
    # The canary in the name marks the user as the victim organisation's private data.
    user = User.objects.create_user(
        username=username, password="correct horse battery 9", first_name=f"{username} {CANARY}"
    )
    for role in roles:
        Membership.objects.create(user=user, organisation=org, role=role)
    return user


@pytest.fixture
def personas(db: None) -> Personas:
    org = Organisation.objects.create(
        slug="inspektorat-uji",
        name="Inspektorat Uji",
        kind=Organisation.Kind.UNIT,
        unit_type="inspektorat",
        accepts_reports=True,
    )
    other = Organisation.objects.create(
        slug="inspektorat-lain",
        name="Inspektorat Lain",
        kind=Organisation.Kind.UNIT,
        unit_type="inspektorat",
    )
    Organisation.objects.create(
        slug="dinas-uji", name="Dinas Uji", kind=Organisation.Kind.UNIT, parent=org
    )
    personas = Personas(
        org=org,
        other_org=other,
        admin=make_user("admin", org, Role.ORG_ADMIN),
        handler=make_user("handler", org, Role.HANDLER),
        viewer=make_user("viewer", org, Role.VIEWER),
        outsider=User.objects.create_user(username="outsider", password="correct horse battery 9"),
    )
    Membership.objects.create(user=personas.outsider, organisation=other, role=Role.ORG_ADMIN)
    return personas


def login_verified(client: Client, user: User) -> Client:
    """Log ``user`` in with a confirmed TOTP device, as if they had passed the second factor."""
    client.force_login(user)
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, name="test", defaults={"confirmed": True}
    )
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def client_for(db: None) -> Callable[[User], Client]:
    def make(user: User) -> Client:
        return login_verified(Client(), user)

    return make


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Each test stores files (media, analytics stores) in its own directory, never in var/."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.VAR_DIR = tmp_path / "var"
    settings.VAR_DIR.mkdir()
