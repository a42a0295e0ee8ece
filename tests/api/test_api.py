from django.test import Client

from cegah.accounts.services import create_api_token, revoke_api_token
from cegah.core.models import AuditEntry


def test_openapi_schema_is_served(db: None) -> None:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/me" in paths and "/api/v1/regions" in paths


def test_missing_token_gets_error_shape(db: None) -> None:
    response = Client().get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


def test_unknown_route_gets_error_shape(db: None) -> None:
    response = Client().get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "not_found", "message": "Tidak ditemukan.", "details": []}
    } or (response.json()["error"]["code"] == "not_found")


def test_token_reads_its_own_organisation(personas) -> None:
    _token, raw = create_api_token(organisation=personas.org, name="bridge", actor=personas.admin)
    client = Client(headers={"Authorization": f"Bearer {raw}"})
    assert client.get("/api/v1/me").json()["slug"] == personas.org.slug
    units = client.get(f"/api/v1/organisations/{personas.org.slug}/units").json()
    assert [u["slug"] for u in units] == ["dinas-uji"]
    assert AuditEntry.objects.filter(action="accounts.apitoken.created").exists()


def test_token_cannot_read_another_organisation(personas) -> None:
    _token, raw = create_api_token(
        organisation=personas.other_org, name="x", actor=personas.outsider
    )
    client = Client(headers={"Authorization": f"Bearer {raw}"})
    response = client.get(f"/api/v1/organisations/{personas.org.slug}/units")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_revoked_token_is_refused(personas) -> None:
    token, raw = create_api_token(organisation=personas.org, name="old", actor=personas.admin)
    revoke_api_token(token=token, actor=personas.admin)
    assert Client(headers={"Authorization": f"Bearer {raw}"}).get("/api/v1/me").status_code == 401


def test_forged_token_with_real_prefix_is_refused(personas) -> None:
    _token, raw = create_api_token(organisation=personas.org, name="t", actor=personas.admin)
    forged = raw[:12] + "A" * (len(raw) - 12)
    assert (
        Client(headers={"Authorization": f"Bearer {forged}"}).get("/api/v1/me").status_code == 401
    )


def test_validation_error_names_the_field(db: None) -> None:
    response = Client().get("/api/v1/regions?province=" + "x" * 3)
    assert response.status_code == 200  # free text filter: no match, empty list
    assert response.json() == []


def test_regions_filter_by_province(db: None) -> None:
    from cegah.orgs.services import sync_regions

    sync_regions()
    rows = Client().get("/api/v1/regions?province=18").json()
    assert len(rows) == 15 and rows[0]["parent_code"] == "18"
