"""Federation API: signed requests, replay protection, idempotent pushes, and a second instance
(the example client, over the Django test client as transport) exchanging cases with the hub."""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.test import Client

from cegah.core.models import AuditEntry
from cegah.orgs.models import Organisation
from cegah.wbs.integration.federation import register_partner
from cegah.wbs.integration.models import (
    Candidate,
    DuplicateGroup,
    ExternalCase,
    FederationNonce,
    Fingerprint,
)
from cegah.wbs.models import Status
from cegah.wbs.services import transition_report
from tests.conftest import Personas
from tests.wbs.conftest import login_with_keys
from tests.wbs.integration.conftest import INCIDENT, INCIDENT_RETOLD, UNRELATED

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "federation_client.py"


def _example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("federation_client", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["federation_client"] = module
    spec.loader.exec_module(module)
    return module


fc = _example()


class DjangoTransport(httpx.BaseTransport):
    """Carries the example client's real httpx requests to the hub through the test client."""

    def __init__(self) -> None:
        self.client = Client()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        headers = {
            k: v for k, v in request.headers.items() if k.lower() not in {"host", "content-length"}
        }
        response = self.client.generic(
            request.method,
            request.url.raw_path.decode(),
            data=request.content,
            content_type=request.headers.get("content-type", "application/octet-stream"),
            headers=headers,
        )
        return httpx.Response(
            response.status_code,
            headers={"content-type": response.get("Content-Type", "")},
            content=response.content,
        )


@pytest.fixture
def partner(wbs: Personas) -> tuple[Organisation, Ed25519PrivateKey]:
    """A ministry that runs its own WBS, registered with its public key."""
    org = Organisation.objects.create(slug="kementerian-mitra", name="Kementerian Mitra", kind="kl")
    key = Ed25519PrivateKey.generate()
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    register_partner(org, raw)
    return org, key


@pytest.fixture
def client(partner: tuple[Organisation, Ed25519PrivateKey]) -> Any:
    org, key = partner
    return fc.FederationClient("http://hub.test", org.slug, key, transport=DjangoTransport())


def _case(external_id: str, text: str, **extra: Any) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "category": "kerugian_negara",
        "received_at": "2026-10-20T09:00:00+07:00",
        "status": "verification",
        "text": text,
        **extra,
    }


def test_second_instance_exchanges_cases_with_the_hub(
    wbs: Personas, partner, client, submit_matched
) -> None:
    hub_report = submit_matched(description=INCIDENT, amount=36_000_000).report
    # The partner's own WBS holds the retold incident and an unrelated case; only fingerprints
    # and metadata travel.
    answer = client.push_case(
        _case("MITRA-2026-001", INCIDENT_RETOLD, amount_bucket="lt100jt", amount=36_000_000)
    )
    assert answer["created"] is True
    [candidate] = answer["candidates"]
    assert candidate["organisation"] == "Inspektorat Uji"
    assert candidate["received_on"] == hub_report.received_at.date().isoformat()
    assert candidate["category"] == "pemerasan" and candidate["status"] == "received"
    assert set(candidate) == {
        "candidate_id", "external_id", "organisation", "received_on", "category", "status",
        "state", "group_lead", "group_status",
    }  # fmt: skip
    assert client.push_case(_case("MITRA-2026-002", UNRELATED))["candidates"] == []
    stored = Fingerprint.objects.get(external_case__external_id="MITRA-2026-001")
    assert "Sukamaju" not in bytes(stored.data).decode()

    # Idempotent: the same push again changes nothing.
    again = client.push_case(
        _case("MITRA-2026-001", INCIDENT_RETOLD, amount_bucket="lt100jt", amount=36_000_000)
    )
    assert again["created"] is False and again["changed"] is False
    assert ExternalCase.objects.count() == 2 and Candidate.objects.count() == 1

    # The hub's handler sees the partner's case as a possible duplicate and confirms it.
    handler = login_with_keys(wbs.handler)
    case_url = f"/wbs/{wbs.org.slug}/r/{hub_report.public_id}/"
    assert "Kementerian Mitra" in handler.get(case_url).content.decode()
    handler.post(
        f"/wbs-integration/{wbs.org.slug}/r/{hub_report.public_id}/duplicates/",
        {"candidate": candidate["candidate_id"], "decision": "confirm"},
    )
    # The partner follows the hub's lead and sees the shared status change.
    transition_report(hub_report, Status.VERIFICATION, wbs.handler)
    [seen] = client.candidates()
    assert seen["state"] == "confirmed"
    assert seen["group_lead"] == "Inspektorat Uji" and seen["group_status"] == "verification"

    # A status change from the partner flows to the hub's case page.
    status_answer = client.set_status("MITRA-2026-001", "follow_up")
    assert status_answer["changed"] is True
    assert ExternalCase.objects.get(external_id="MITRA-2026-001").status == "follow_up"
    assert AuditEntry.objects.filter(action="wbs.federation.status_changed").exists()


def test_partner_can_lead_and_decide_through_the_api(
    wbs: Personas, partner, client, submit_matched
) -> None:
    submit_matched(description=INCIDENT)
    [candidate] = client.push_case(_case("MITRA-9", INCIDENT_RETOLD))["candidates"]
    decided = client.decide(candidate["candidate_id"], "confirm")
    assert decided["state"] == "confirmed" and decided["group_lead"] == "Kementerian Mitra"
    assert DuplicateGroup.objects.get().lead.external_case.external_id == "MITRA-9"
    client.set_status("MITRA-9", "follow_up")
    assert client.candidates()[0]["group_status"] == "follow_up"


def test_parameters_give_the_hub_key_id(client) -> None:
    from cegah.wbs.integration.fingerprints import dedup_key

    assert client.parameters()["key_id"] == dedup_key().key_id
    assert client.dedup_key().key_id == dedup_key().key_id


def _signed(partner, method: str, path: str, body: bytes = b"", **kwargs: Any) -> dict[str, str]:
    org, key = partner
    return fc.signed_headers(key, org.slug, method, path, body, **kwargs)


def test_unsigned_request_is_refused(wbs: Personas) -> None:
    response = Client().get("/api/v1/federation/candidates")
    assert response.status_code == 401


def test_stale_timestamp_is_refused(partner) -> None:
    path = "/api/v1/federation/candidates"
    headers = _signed(partner, "GET", path, timestamp=int(time.time()) - 301)
    assert Client().get(path, headers=headers).status_code == 401


def test_replayed_nonce_is_refused(partner) -> None:
    path = "/api/v1/federation/candidates"
    headers = _signed(partner, "GET", path)
    assert Client().get(path, headers=headers).status_code == 200
    replay = Client().get(path, headers=headers)
    assert replay.status_code == 401 and b"nonce" in replay.content
    assert FederationNonce.objects.count() == 1


def test_tampered_body_or_path_is_refused(partner) -> None:
    path = "/api/v1/federation/cases/status"
    body = json.dumps({"external_id": "X", "status": "closed"}).encode()
    headers = _signed(partner, "POST", path, body)
    other_body = json.dumps({"external_id": "Y", "status": "closed"}).encode()
    response = Client().post(path, other_body, content_type="application/json", headers=headers)
    assert response.status_code == 401
    headers = _signed(partner, "GET", "/api/v1/federation/parameters")
    assert Client().get("/api/v1/federation/candidates", headers=headers).status_code == 401


def test_another_key_cannot_sign_for_the_partner(partner) -> None:
    org, _key = partner
    intruder = Ed25519PrivateKey.generate()
    path = "/api/v1/federation/parameters"
    headers = fc.signed_headers(intruder, org.slug, "GET", path, b"")
    assert Client().get(path, headers=headers).status_code == 401


def test_fingerprint_under_another_key_is_refused(client) -> None:
    from cegah.wbs.dedup import DedupKey

    client._dedup_key = DedupKey(b"another-partner-own-key-000000000")
    with pytest.raises(fc.FederationError) as exc:
        client.push_case(_case("X-1", INCIDENT))
    assert exc.value.status == 422


def test_status_of_unknown_case_is_404(client) -> None:
    with pytest.raises(fc.FederationError) as exc:
        client.set_status("nope", "closed")
    assert exc.value.status == 404


def test_partner_cannot_decide_other_organisations_pairs(
    wbs: Personas, partner, client, submit_matched
) -> None:
    submit_matched(description=INCIDENT)
    submit_matched(org=wbs.other_org, description=INCIDENT_RETOLD)
    candidate = Candidate.objects.get()
    with pytest.raises(fc.FederationError) as exc:
        client.decide(candidate.pk, "confirm")
    assert exc.value.status == 404


def test_register_command_and_openapi(tmp_path: Path, wbs: Personas) -> None:
    from django.core.management import ManagementUtility

    private, public = fc.keygen(tmp_path / "mitra")
    assert private.stat().st_mode & 0o077 == 0
    with pytest.raises(SystemExit) as exit_info:
        ManagementUtility(
            ["cegah", "wbs", "federation-register", wbs.other_org.slug, str(public)]
        ).execute()
    assert exit_info.value.code == 0
    assert AuditEntry.objects.filter(action="wbs.federation.partner_registered").exists()
    key = fc.load_private_key(private)
    path = "/api/v1/federation/candidates"
    headers = fc.signed_headers(key, wbs.other_org.slug, "GET", path, b"")
    assert Client().get(path, headers=headers).json() == []
    schema = Client().get("/api/v1/openapi.json").json()
    assert "/api/v1/federation/cases" in schema["paths"]
    assert "SignedRequest" in json.dumps(schema["components"]["securitySchemes"])


def test_naive_time_is_read_as_local_time(client) -> None:
    answer = client.push_case(_case("LOCAL-1", UNRELATED, received_at="2026-10-20T09:00:00"))
    assert answer["created"] is True
    case = ExternalCase.objects.get(external_id="LOCAL-1")
    assert case.received_at.isoformat() == "2026-10-20T02:00:00+00:00"


def test_oversized_fingerprint_is_refused(client) -> None:
    fingerprint = client.fingerprint(_case("BIG-1", INCIDENT))
    fingerprint["e"]["person"] = [f"{i:016x}" for i in range(600)]
    with pytest.raises(fc.FederationError) as exc:
        client._call(
            "POST",
            "/cases",
            {
                **{k: v for k, v in _case("BIG-1", "").items() if k != "text"},
                "fingerprint": fingerprint,
            },
        )
    assert exc.value.status == 422
