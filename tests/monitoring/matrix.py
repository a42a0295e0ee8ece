"""Access-matrix fillers for the monitoring routes: objects of the victim organisation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from cegah.monitoring.framework_io import (
    AreaSpec,
    FrameworkSpec,
    IndicatorSpec,
    SubSpec,
    save_framework,
)
from cegah.monitoring.models import (
    Answer,
    Assessment,
    Evidence,
    Framework,
    Meeting,
    Period,
    ProgressUpdate,
    Recommendation,
    StrategicProject,
    SubIndicator,
    TepraImport,
)
from tests.conftest import CANARY, Personas

PUBLIC_ROUTES: set[str] = set()
# Routes without object parameters: the user's own coverage, shared frameworks, the template.
SELF_ROUTES = {
    "monitoring:home",
    "monitoring:frameworks",
    "monitoring:framework_export",
    "monitoring:coverage",
    "monitoring:coverage_xlsx",
    "monitoring:coverage_pdf",
    "monitoring:coverage_tepra",
    "monitoring:meetings",
    "monitoring:tepra_template",
}


def _framework() -> Framework:
    # Frameworks are shared reference data shown to everyone, so no canary here.
    existing = Framework.objects.filter(year=2099).first()
    if existing:
        return existing
    spec = FrameworkSpec(
        year=2099,
        version=1,
        name="Matrix",
        areas=[
            AreaSpec(
                "1",
                "A",
                Decimal(100),
                indicators=[
                    IndicatorSpec("1", "I", Decimal(100), subs=[SubSpec("1", "S", Decimal(100))])
                ],
            )
        ],
    )
    return save_framework(spec, actor=None)


def _period(p: Personas) -> Period:
    return Period.objects.filter(framework=_framework()).order_by("quarter").first()  # type: ignore[return-value]


def _answer(p: Personas) -> Answer:
    period = _period(p)
    assessment, _ = Assessment.objects.get_or_create(
        organisation=p.org, period=period, defaults={"status": Assessment.Status.SUBMITTED}
    )
    sub = SubIndicator.objects.get(indicator__area__framework=period.framework)
    answer, _ = Answer.objects.get_or_create(
        assessment=assessment, sub_indicator=sub, defaults={"value": Decimal(50), "note": CANARY}
    )
    return answer


def _evidence(p: Personas) -> int:
    return Evidence.objects.create(
        answer=_answer(p), kind="link", url=f"https://example.org/{CANARY}", description=CANARY
    ).pk


def _meeting(p: Personas) -> Meeting:
    return Meeting.objects.create(
        convened_by=p.org, title=f"Rakor {CANARY}", held_on=dt.date(2026, 1, 5)
    )


def _recommendation(p: Personas) -> Recommendation:
    return Recommendation.objects.create(
        institution=p.org, issued_by=p.org, title=f"Rec {CANARY}", due_date=dt.date(2026, 1, 1)
    )


FILLERS = {
    "period_id": lambda p: _period(p).pk,
    "sub_id": lambda p: SubIndicator.objects.get(indicator__area__framework=_framework()).pk,
    "evidence_id": _evidence,
    "meeting_id": lambda p: _meeting(p).pk,
    "recommendation_id": lambda p: _recommendation(p).pk,
    "update_id": lambda p: (
        ProgressUpdate.objects.create(
            recommendation=_recommendation(p), note=CANARY, progress=10
        ).pk
    ),
    "import_id": lambda p: (
        TepraImport.objects.create(
            organisation=p.org, year=2026, month=1, file_name=f"{CANARY}.csv"
        ).pk
    ),
    "project_id": lambda p: (
        StrategicProject.objects.create(
            organisation=p.org, year=2026, opd_name=CANARY, package_name=f"Paket {CANARY}"
        ).pk
    ),
}
