from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SurveyConfig(AppConfig):
    name = "cegah.survey"
    label = "survey"
    verbose_name = _("Integrity survey")

    def ready(self) -> None:
        from cegah.channels.inbound import register_inbound_handler
        from cegah.channels.signals import message_status_changed
        from cegah.core.demo import DEMO_STEPS, deferred_step
        from cegah.core.navigation import NAV_ITEMS, ORG_LINKS, NavItem, OrgLink
        from cegah.survey.hooks import on_inbound, on_status

        NAV_ITEMS.append(NavItem(_("Integrity survey"), "survey:home", cap="survey.coordinate"))
        ORG_LINKS.append(
            OrgLink(_("Integrity survey (SPI)"), "survey:editions", "survey.coordinate")
        )
        # Before the WBS conversation handler, which would otherwise take "STOP" as a report.
        register_inbound_handler(on_inbound, name="survey.opt_out", priority=5)
        message_status_changed.connect(on_status, dispatch_uid="survey.delivery")
        DEMO_STEPS.append(deferred_step("cegah.survey.demo"))
