from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitoringConfig(AppConfig):
    name = "cegah.monitoring"
    label = "monitoring"
    verbose_name = _("Prevention monitoring")

    def ready(self) -> None:
        from cegah.core.demo import DEMO_STEPS
        from cegah.core.navigation import NAV_ITEMS, NavItem
        from cegah.monitoring.demo import load_monitoring_demo

        NAV_ITEMS.append(NavItem(_("Monitoring"), "monitoring:home", cap="monitoring.view"))
        if load_monitoring_demo not in DEMO_STEPS:
            DEMO_STEPS.append(load_monitoring_demo)
