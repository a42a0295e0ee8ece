"""SPI (Survei Penilaian Integritas) questionnaire and scoring engine, free of Django.

The CLI (`cegah survey score`) and the web app call the same functions, re-exported here.
"""

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
