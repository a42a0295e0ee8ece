"""Scores from the database: load a framework tree once, score assessments, rank, trend."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from cegah.monitoring.models import Answer, Assessment, Framework, Period
from cegah.monitoring.scoring import (
    AreaNode,
    IndicatorNode,
    ScoreCard,
    SubNode,
    competition_rank,
    score_tree,
)
from cegah.orgs.models import Organisation


def framework_tree(framework: Framework) -> tuple[AreaNode, ...]:
    """Return the framework's areas → indicators → sub-indicators as plain data (3 queries)."""
    areas = list(framework.areas.prefetch_related("indicators__subs"))
    return tuple(
        AreaNode(
            a.pk,
            a.code,
            a.name,
            a.weight,
            tuple(
                IndicatorNode(
                    i.pk,
                    i.code,
                    i.name,
                    i.weight,
                    tuple(SubNode(s.pk, s.code, s.name, s.weight) for s in i.subs.all()),
                )
                for i in a.indicators.all()
            ),
        )
        for a in areas
    )


def scorecard(
    framework: Framework, answers: list[Answer], tree: tuple[AreaNode, ...] | None = None
) -> ScoreCard:
    verified = {a.sub_indicator_id: a.verified_value for a in answers}
    reported = {a.sub_indicator_id: a.value for a in answers}
    return score_tree(tree or framework_tree(framework), verified, reported, framework.cutoffs)


@dataclass
class Standing:
    organisation: Organisation
    assessment: Assessment
    card: ScoreCard
    national_rank: int = 0
    province_rank: int = 0
    # Answers the verifier has still to judge: they count at 0 (or at their last verified value)
    # until then, so the score may rise once they are verified.
    awaiting: int = 0


def period_standings(period: Period) -> list[Standing]:
    """Score every submitted assessment of ``period``; rank nationally and within province.

    Drafts are left out: their values are unverified and private. Three queries for the tree plus
    two for the assessments and answers, whatever the number of institutions.
    """
    framework = period.framework
    tree = framework_tree(framework)
    assessments = list(
        Assessment.objects.filter(period=period)
        .exclude(status=Assessment.Status.DRAFT)
        .select_related("organisation__region")
    )
    answers_by: dict[int, list[Answer]] = defaultdict(list)
    for answer in Answer.objects.filter(assessment__in=assessments).only(
        "assessment_id", "sub_indicator_id", "value", "verified_value", "verdict"
    ):
        answers_by[answer.assessment_id].append(answer)
    standings = [
        Standing(
            a.organisation,
            a,
            scorecard(framework, answers_by[a.pk], tree),
            awaiting=sum(1 for answer in answers_by[a.pk] if answer.is_awaiting_review),
        )
        for a in assessments
    ]
    national = competition_rank({s.organisation.pk: s.card.total for s in standings})
    by_province: dict[str, dict[int, Decimal]] = defaultdict(dict)
    for s in standings:
        province = (s.organisation.region_id or "").split(".")[0]
        by_province[province][s.organisation.pk] = s.card.total
    province_ranks: dict[int, int] = {}
    for group in by_province.values():
        province_ranks |= competition_rank(group)
    for s in standings:
        s.national_rank = national[s.organisation.pk]
        s.province_rank = province_ranks[s.organisation.pk]
    standings.sort(key=lambda s: (s.national_rank, s.organisation.name))
    return standings


def trend(
    organisation: Organisation, *, include_drafts: bool = False
) -> list[tuple[Period, ScoreCard]]:
    """Return ``(period, score card)`` for each assessment of the institution, oldest first."""
    assessments = Assessment.objects.filter(organisation=organisation).select_related(
        "period__framework"
    )
    if not include_drafts:
        assessments = assessments.exclude(status=Assessment.Status.DRAFT)
    rows = []
    trees: dict[int, tuple[AreaNode, ...]] = {}
    for a in sorted(assessments, key=lambda a: (a.period.framework.year, a.period.quarter)):
        framework = a.period.framework
        if framework.pk not in trees:
            trees[framework.pk] = framework_tree(framework)
        answers = list(a.answers.only("sub_indicator_id", "value", "verified_value"))
        rows.append((a.period, scorecard(framework, answers, trees[framework.pk])))
    return rows


def latest_period(framework: Framework | None = None) -> Period | None:
    """The most recent period that has any submitted assessment, else the newest period."""
    qs = Period.objects.select_related("framework").filter(framework__is_active=True)
    if framework is not None:
        qs = qs.filter(framework=framework)
    with_data = (
        qs.filter(
            assessments__status__in=[
                Assessment.Status.SUBMITTED,
                Assessment.Status.RETURNED,
                Assessment.Status.VERIFIED,
            ]
        )
        .order_by("-framework__year", "-quarter")
        .first()
    )
    return with_data or qs.order_by("-framework__year", "-quarter").first()
