"""``insert_rows`` stores what ``bulk_create`` would, on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.forms.models import model_to_dict

from cegah.core.bulk import insert_rows
from cegah.procurement.models import Buyer, TenderRisk

pytestmark = pytest.mark.django_db

WIB = dt.timezone(dt.timedelta(hours=7))


def _rows(buyer: Buyer, prefix: str) -> list[dict[str, Any]]:
    return [
        {
            "ocid": f"{prefix}-1",
            "buyer_id": buyer.pk,
            "title": "Pengadaan 'alat' \"kantor\" — Rp 1.000",
            "year": 2025,
            "month": 12,
            "announced_at": dt.datetime(2025, 12, 1, 8, 30, 15, 123456, tzinfo=WIB),
            "tender_end": dt.datetime(2025, 12, 31, 23, 59, tzinfo=dt.UTC),
            "hps": 1e12,
            "value": 0.1 + 0.2,
            "n_bidders": 0,
            "score": 65,
            "flags": [{"code": "ID01", "value": None, "points": 25, "note": "tanda ✓"}],
            "bids": [{"tenderer": "A", "amount": 95.5, "winner": True}],
            "codes": " ID01 ",
        },
        # Every field left out takes its default (NULL, "", 0, []).
        {"ocid": f"{prefix}-2", "buyer_id": buyer.pk},
    ]


def _stored(prefix: str) -> list[dict[str, Any]]:
    rows = TenderRisk.objects.filter(ocid__startswith=prefix).order_by("ocid")
    return [{k: v for k, v in model_to_dict(r).items() if k != "id"} for r in rows]


def test_insert_rows_stores_what_bulk_create_stores() -> None:
    buyer = Buyer.objects.create(buyer_id="ID-SATKER-1", name="Dinas A")
    TenderRisk.objects.bulk_create(TenderRisk(**row) for row in _rows(buyer, "orm"))
    assert insert_rows(TenderRisk, _rows(buyer, "raw"), batch_size=1) == 2
    orm, raw = _stored("orm"), _stored("raw")
    for row in orm + raw:
        row["ocid"] = row["ocid"].split("-", 1)[1]
    assert raw == orm
    assert raw[0]["announced_at"] == dt.datetime(2025, 12, 1, 1, 30, 15, 123456, tzinfo=dt.UTC)
    assert raw[1]["flags"] == [] and raw[1]["title"] == "" and raw[1]["hps"] is None


def test_insert_rows_refuses_unknown_keys() -> None:
    buyer = Buyer.objects.create(buyer_id="ID-SATKER-2")
    with pytest.raises(KeyError, match="nope"):
        insert_rows(TenderRisk, [{"ocid": "x", "buyer_id": buyer.pk, "nope": 1}])
    assert not TenderRisk.objects.exists()
