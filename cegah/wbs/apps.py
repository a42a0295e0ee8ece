from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WbsConfig(AppConfig):
    name = "cegah.wbs"
    label = "wbs"
    verbose_name = _("Whistleblowing")
