"""Indonesian indicators ID01–ID13 on hand-made releases: each fires where it should only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cegah.procurement.engine import compute, parse_settings
from cegah.procurement.engine.settings import SettingsError

LONG = "Pembangunan Jalan Desa Sukamaju Tahap Dua"  # a title long enough for ICW


def release(ocid: str, *, buyer: str = "B1", **tender: Any) -> dict[str, Any]:
    base = {
        "title": LONG,
        "procurementMethod": "open",
        "procurementMethodDetails": "Tender",
        "tenderPeriod": {
            "startDate": "2025-03-01T08:00:00+07:00",
            "endDate": "2025-03-10T08:00:00+07:00",
        },
    }
    return {"ocid": ocid, "buyer": {"id": buyer}, "tender": {**base, **tender}}


def award(supplier: str, amount: float | None = None, date: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"status": "active", "suppliers": [{"id": supplier}]}
    if amount is not None:
        out["value"] = {"amount": amount, "currency": "IDR"}
    if date:
        out["date"] = date
    return out


def offer(tenderer: str, amount: float, status: str = "pending") -> dict[str, Any]:
    return {
        "status": status,
        "tenderers": [{"id": tenderer}],
        "value": {"amount": amount, "currency": "IDR"},
    }


def direct(ocid: str, amount: float, signed: str, supplier: str = "S9") -> dict[str, Any]:
    r = release(
        ocid,
        buyer="B3",
        procurementMethod="direct",
        procurementMethodDetails="Pengadaan Langsung",
        mainProcurementCategory="goods",
    )
    r["awards"] = [award(supplier, amount)]
    r["contracts"] = [{"status": "active", "dateSigned": signed, "value": {"amount": amount}}]
    return r


def releases() -> list[dict[str, Any]]:
    single = release("single")
    single["bids"] = {
        "statistics": [{"measure": "requests", "value": 10}],
        "details": [offer("A", 90.0, "valid")],
    }
    near = release("near-hps", value={"amount": 100.0})
    near["awards"] = [award("A", 96.0)]
    above = release("above-hps", value={"amount": 100.0})
    above["awards"] = [award("A", 101.0)]
    slow = release("slow-award")
    slow["awards"] = [award("A", date="2025-05-15T10:00:00+07:00")]  # 75 days
    short = release(
        "short-period",
        tenderPeriod={
            "startDate": "2025-03-01T08:00:00+07:00",
            "endDate": "2025-03-04T08:00:00+07:00",
        },
    )
    december = release(
        "december",
        tenderPeriod={
            "startDate": "2025-12-01T08:00:00+07:00",
            "endDate": "2025-12-20T08:00:00+07:00",
        },
    )
    dearer = release("winner-not-lowest", awardCriteria="priceOnly")
    dearer["bids"] = {"details": [offer("W", 100.0, "valid"), offer("L", 90.0, "valid")]}
    dearer["awards"] = [award("W")]
    # A lower offer with no evaluation outcome may have failed evaluation: no sign.
    unknown = release("lower-offer-pending", buyer="B4", awardCriteria="priceOnly")
    unknown["bids"] = {"details": [offer("W", 100.0, "valid"), offer("L", 90.0)]}
    unknown["awards"] = [award("W")]
    rated = release("rated", awardCriteria="ratedCriteria")
    rated["bids"] = {"details": [offer("W", 100.0, "valid"), offer("L", 90.0)]}
    rated["awards"] = [award("W")]
    terse = release("terse", title="ATK", description="Kertas")
    # Buyer B2: five direct purchases, all from one supplier.
    b2 = [
        release(f"b2-{i}", buyer="B2", procurementMethodDetails="Pengadaan Langsung")
        for i in range(5)
    ]
    for r in b2:
        r["awards"] = [award("S1", 10.0)]
    split = [
        direct("split-1", 190_000_000, "2025-06-02T10:00:00+07:00"),
        direct("split-2", 195_000_000, "2025-06-12T10:00:00+07:00"),
        direct("apart", 195_000_000, "2025-09-30T10:00:00+07:00"),
        direct("small", 50_000_000, "2025-06-05T10:00:00+07:00"),
    ]
    return [single, near, above, slow, short, december, dearer, unknown, rated, terse, *b2, *split]


@pytest.fixture
def output(tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "id.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in releases()))
    # No Cardinal section: only the Indonesian indicators run (all of them, with defaults).
    with compute(path, parse_settings(""), indonesian=True) as result:
        return result.to_dict()


def flagged(output: dict[str, Any], group: str, code: str) -> dict[str, float]:
    return {k: v[code] for k, v in output.get(group, {}).items() if code in v}


def test_each_indonesian_indicator(output: dict[str, Any]) -> None:
    assert flagged(output, "OCID", "ID01") == {"single": 10.0}
    assert flagged(output, "OCID", "ID02") == {"near-hps": 0.96, "above-hps": 1.01}
    assert flagged(output, "OCID", "ID03") == {"slow-award": 5.0}
    assert flagged(output, "OCID", "ID04") == {"above-hps": 5.0}  # 4% below HPS scores 1
    assert flagged(output, "OCID", "ID05") == {"short-period": 3.0}
    assert flagged(output, "OCID", "ID06") == {"december": 12.0}
    # B1: supplier A has all the awarded value (W's awards have none) and 3 of 5 awards; B3 has
    # only 4 awards, under the minimum of 5.
    assert flagged(output, "Buyer", "ID07") == {"B1": 1.0, "B2": 1.0}
    assert flagged(output, "Buyer", "ID08") == {"B1": 0.6, "B2": 1.0}
    assert flagged(output, "OCID", "ID09") == {"split-1": 2.0, "split-2": 2.0}
    assert flagged(output, "Buyer", "ID10") == {"B2": 1.0}
    assert flagged(output, "OCID", "ID11") == pytest.approx({"winner-not-lowest": 10 / 90})
    assert flagged(output, "OCID", "ID12") == {"terse": 3.0}
    assert flagged(output, "OCID", "ID13") == {"terse": 6.0}
    assert output["Meta"]["ID02"] == {"share": 0.95}


def test_settings_choose_and_tune(tmp_path: Path) -> None:
    path = tmp_path / "id.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in releases()))
    ini = """
[ID02]
share = 1.0
[ID09]
band = 0.9
[ID09.ceilings]
goods@2021-02-02 = 200000000
goods@2025-06-10 = 150000000
"""
    with compute(path, parse_settings(ini), indonesian=True) as result:
        out = result.to_dict()
    codes = {code for group in ("OCID", "Buyer") for v in out.get(group, {}).values() for code in v}
    assert codes == {"ID02"}  # only the sections present run
    assert flagged(out, "OCID", "ID02") == {"above-hps": 1.01}
    # From 10 June the (made-up) lower ceiling puts split-2 over it: no pair is left.
    assert "ID09" not in {c for v in out.get("OCID", {}).values() for c in v}


def test_bad_ceiling_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "id.jsonl"
    path.write_text(json.dumps(release("x")) + "\n")
    with (
        pytest.raises(SettingsError, match="category@YYYY-MM-DD"),
        compute(path, parse_settings("[ID09.ceilings]\ngoods = 1\n"), indonesian=True),
    ):
        pass
