"""Prevention monitoring: the MCP framework, assessments and evidence, coverage of verifiers,
recommendations and TEPRA budget realisation."""

from cegah.monitoring.models.actions import Meeting, ProgressUpdate, Recommendation
from cegah.monitoring.models.assessment import Answer, Assessment, Evidence
from cegah.monitoring.models.coverage import Coverage
from cegah.monitoring.models.framework import Area, Framework, Indicator, Period, SubIndicator
from cegah.monitoring.models.tepra import (
    QuarterTarget,
    Realisation,
    StrategicProject,
    TepraImport,
)

__all__ = [
    "Answer",
    "Area",
    "Assessment",
    "Coverage",
    "Evidence",
    "Framework",
    "Indicator",
    "Meeting",
    "Period",
    "ProgressUpdate",
    "QuarterTarget",
    "Realisation",
    "Recommendation",
    "StrategicProject",
    "SubIndicator",
    "TepraImport",
]
