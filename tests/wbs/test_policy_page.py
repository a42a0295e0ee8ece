"""The policy page links to the public report form only when that form is open."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from cegah.accounts.models import User
from cegah.wbs import keys
from tests.conftest import Personas

pytestmark = pytest.mark.django_db


def _policy(client: Client, slug: str) -> str:
    response = client.get(f"/wbs/{slug}/policy/")
    assert response.status_code == 200
    return response.content.decode()


def test_without_report_keys_the_page_says_how_to_open_the_form(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    page = _policy(client_for(personas.admin), personas.org.slug)
    assert f'href="/lapor/{personas.org.slug}/"' not in page
    assert f'href="/wbs/{personas.org.slug}/keys/"' in page
    # The form it would have linked to is indeed closed.
    assert Client().get(f"/lapor/{personas.org.slug}/").status_code == 404


def test_with_report_keys_the_page_links_to_the_open_form(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    keys.set_up_org_key(personas.org, None)
    page = _policy(client_for(personas.admin), personas.org.slug)
    assert f'href="/lapor/{personas.org.slug}/"' in page
    assert Client().get(f"/lapor/{personas.org.slug}/").status_code == 200


def test_an_organisation_that_takes_no_reports_gets_no_link(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    page = _policy(client_for(personas.outsider), personas.other_org.slug)
    assert "/lapor/" not in page.split("<main", 1)[1]
