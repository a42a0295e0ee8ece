"""Integrated WBS across organisations: duplicate candidates and groups, and the federation API
for institutions that run their own WBS. Built on the engine in ``cegah.wbs.dedup``."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationConfig(AppConfig):
    name = "cegah.wbs.integration"
    label = "wbs_integration"
    verbose_name = _("Integrated whistleblowing")

    def ready(self) -> None:
        from cegah.core.demo import DEMO_STEPS
        from cegah.wbs.hooks import CASE_PANELS, INTAKE_HOOKS
        from cegah.wbs.integration.demo import load_demo
        from cegah.wbs.integration.panels import duplicates_panel
        from cegah.wbs.integration.services import on_intake

        INTAKE_HOOKS.append(on_intake)
        CASE_PANELS.append(duplicates_panel)
        # INSTALLED_APPS lists this app after cegah.wbs, so this runs after the WBS demo step
        # (organisations accept reports and have keys by then).
        DEMO_STEPS.append(load_demo)
