"""SPI (Survei Penilaian Integritas) questionnaire and scoring engine, free of Django.

The CLI (`cegah survey score`) and the web app call the same functions, re-exported here. They
are loaded on first use: the index imports polars (about 0.1-0.2 s), which Django's start-up
would otherwise pay for every command and worker, through the models' use of ``constants``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cegah.survey.scoring.editions import EditionConfig, category_for, load_edition
    from cegah.survey.scoring.errors import (
        FormIssue,
        QuestionnaireError,
        ResponsesError,
        ScoringError,
    )
    from cegah.survey.scoring.index import (
        GroupScore,
        IndexResult,
        InstitutionIndex,
        compute_index,
    )
    from cegah.survey.scoring.questionnaire import (
        Question,
        Questionnaire,
        ScoredItem,
        default_questionnaire_path,
        load_questionnaire,
    )
    from cegah.survey.scoring.responses import read_responses_csv, validate_responses

# Each name re-exported here, and the module of this package that defines it.
_FROM = {
    "EditionConfig": "editions",
    "category_for": "editions",
    "load_edition": "editions",
    "FormIssue": "errors",
    "QuestionnaireError": "errors",
    "ResponsesError": "errors",
    "ScoringError": "errors",
    "GroupScore": "index",
    "IndexResult": "index",
    "InstitutionIndex": "index",
    "compute_index": "index",
    "Question": "questionnaire",
    "Questionnaire": "questionnaire",
    "ScoredItem": "questionnaire",
    "default_questionnaire_path": "questionnaire",
    "load_questionnaire": "questionnaire",
    "read_responses_csv": "responses",
    "validate_responses": "responses",
}


def __getattr__(name: str) -> Any:
    module = _FROM.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "EditionConfig",
    "FormIssue",
    "GroupScore",
    "IndexResult",
    "InstitutionIndex",
    "Question",
    "Questionnaire",
    "QuestionnaireError",
    "ResponsesError",
    "ScoredItem",
    "ScoringError",
    "category_for",
    "compute_index",
    "default_questionnaire_path",
    "load_edition",
    "load_questionnaire",
    "read_responses_csv",
    "validate_responses",
]
