from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationConfig(AppConfig):
    name = "cegah.wbs.integration"
    label = "wbs_integration"
    verbose_name = _("Integrated whistleblowing")
