from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProcurementConfig(AppConfig):
    name = "cegah.procurement"
    label = "procurement"
    verbose_name = _("Procurement risk")

    def ready(self) -> None:
        from cegah.core.demo import DEMO_STEPS
        from cegah.core.navigation import NAV_ITEMS, ORG_LINKS, NavItem, OrgLink
        from cegah.procurement.demo import load_demo

        NAV_ITEMS.append(
            NavItem(_("Procurement risk"), "procurement:index", cap="procurement.analyse")
        )
        ORG_LINKS.append(
            OrgLink(_("Procurement risk"), "procurement:ranking", "procurement.analyse")
        )
        DEMO_STEPS.append(load_demo)
