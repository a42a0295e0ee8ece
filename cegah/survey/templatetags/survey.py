"""Template helpers of the survey pages."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import get_language

from cegah.survey.models import Group
from cegah.survey.scoring.constants import DIMENSION_LABELS

register = template.Library()


@register.simple_tag
def is_lagging(row: Any, threshold: float) -> bool:
    return bool(row.lagging(threshold))


@register.simple_tag
def group_label(group: str) -> str:
    try:
        return str(Group(group).label)
    except ValueError:
        return group


@register.simple_tag
def dimension_label(dim: str) -> str:
    labels = DIMENSION_LABELS.get(dim, (dim, dim))
    return labels[1] if (get_language() or "id") == "en" else labels[0]


@register.filter
def get(mapping: Any, key: Any) -> Any:
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.simple_tag
def problem_text(problem: Any) -> str:
    """The text of a stored import problem (a dict with its code and parameters)."""
    from cegah.survey.frames import problem_text as text

    return text(problem if isinstance(problem, dict) else {"code": problem})


@register.simple_tag
def choice_label(kind: str, value: str) -> str:
    """The translated label of an invitation delivery, a respondent source or a screening."""
    from cegah.survey.models import Invitation, Respondent

    choices = {
        "delivery": Invitation.Delivery,
        "source": Respondent.Source,
        "screening": Respondent.Screening,
    }[kind]
    try:
        return str(choices(value).label)
    except ValueError:
        return value or "—"


@register.filter
def pooled_any(absent: Any) -> bool:
    """Whether any institution left out of the index has answers in the mixing pool."""
    return any(a.pooled for a in absent)
