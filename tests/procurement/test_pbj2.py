"""Second QA pass over the procurement pages: bad parameters, wording, counts, exports."""

from __future__ import annotations

from pathlib import Path

import pytest

from cegah.accounts.services import create_api_token
from cegah.procurement.models import Buyer
from tests.conftest import Personas
from tests.procurement.web_helpers import OWN, World, build_world

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"


@pytest.fixture
def world(personas: Personas, procurement_store: Path, tmp_path: Path) -> World:
    return build_world(personas, tmp_path)


# --- Parameters no database can take ----------------------------------------------------------


@pytest.mark.parametrize("value", [HUGE, "-3", "0", "²"])
def test_an_impossible_satker_filter_is_a_form_error_not_a_500(
    world: World, client_for, value: str
) -> None:
    own = Buyer.objects.get(buyer_id=OWN)
    client = client_for(world.kpk_analyst)
    page = client.get(f"/pbj/kpk-uji/tenders/?buyer={value}&year=2025&page=²")
    assert page.status_code == 200
    assert "tidak sah dan diabaikan" in page.content.decode()
    for fmt in ("csv", "xlsx"):
        refused = client.get(f"/pbj/kpk-uji/tenders/export.{fmt}?buyer={value}")
        assert refused.status_code == 400
    assert client.get(f"/pbj/kpk-uji/tenders/?buyer={own.pk}").status_code == 200


def test_the_api_refuses_impossible_years_and_offsets_cleanly(
    world: World, personas: Personas, client
) -> None:
    _token, raw = create_api_token(organisation=personas.org, name="map", actor=personas.admin)
    headers = {"Authorization": f"Bearer {raw}"}
    for path in (
        f"/api/v1/procurement/institutions?year={HUGE}",
        f"/api/v1/procurement/buyers?year={HUGE}",
    ):
        assert client.get(path, headers=headers).status_code == 422
    page = client.get(f"/api/v1/procurement/buyers?offset={HUGE}", headers=headers)
    assert page.status_code == 200 and page.json()["items"] == [] and page.json()["count"] == 1
