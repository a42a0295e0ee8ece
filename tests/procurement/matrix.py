"""Access-matrix fillers for the procurement routes: objects of the victim organisation."""

from __future__ import annotations

from cegah.procurement.models import Buyer, ImportJob, TenderExport, TenderRisk
from tests.conftest import CANARY, Personas

SELF_ROUTES = {"procurement:index"}


def _buyer(personas: Personas) -> Buyer:
    buyer, _created = Buyer.objects.get_or_create(
        buyer_id=f"ID-SATKER-{CANARY}",
        defaults={"name": f"Satker {CANARY}", "organisation": personas.org},
    )
    return buyer


def _tender(personas: Personas) -> TenderRisk:
    tender, _created = TenderRisk.objects.get_or_create(
        ocid=f"ocds-{CANARY}-1",
        defaults={
            "buyer": _buyer(personas),
            "organisation": personas.org,
            "title": f"Tender {CANARY}",
            "year": 2025,
            "score": 50,
        },
    )
    return tender


def _job(personas: Personas) -> ImportJob:
    job, _created = ImportJob.objects.get_or_create(
        organisation=personas.org,
        original_name=f"{CANARY}.jsonl",
        defaults={"kind": "ocds", "path": "/nonexistent"},
    )
    return job


def _export(personas: Personas) -> TenderExport:
    job, _created = TenderExport.objects.get_or_create(
        organisation=personas.org, created_by=personas.admin, query=f"q={CANARY}"
    )
    return job


FILLERS = {
    "buyer_pk": lambda p: _buyer(p).pk,
    "tender_id": lambda p: _tender(p).pk,
    "job_id": lambda p: _job(p).pk,
    "export_id": lambda p: _export(p).pk,
}
