from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WbsConfig(AppConfig):
    name = "cegah.wbs"
    label = "wbs"
    verbose_name = _("Whistleblowing")

    def ready(self) -> None:
        from cegah.accounts.hooks import LOGIN_HOOKS, PASSWORD_CHANGED_HOOKS, ROLE_REMOVED_HOOKS
        from cegah.core.demo import DEMO_STEPS, deferred_step
        from cegah.core.navigation import NAV_ITEMS, ORG_LINKS, NavItem, OrgLink
        from cegah.wbs.oversight import oversight_scope
        from cegah.wbs.session import on_login, on_password_changed, on_role_removed

        NAV_ITEMS.append(
            NavItem(
                _("Oversight"),
                "wbs:oversight",
                cap="reports.stats",
                visible=lambda request: oversight_scope(request.user) is not None,
            )
        )
        ORG_LINKS.insert(0, OrgLink(_("Reports (WBS)"), "wbs:cases", "reports.read"))
        ORG_LINKS.insert(1, OrgLink(_("Referred reports"), "wbs:referred", "reports.read"))
        ORG_LINKS.insert(
            2, OrgLink(_("Record a phone or walk-in report"), "wbs:intake", "reports.handle")
        )
        ORG_LINKS.append(OrgLink(_("Report keys"), "wbs:keys", "members.manage"))
        ORG_LINKS.append(OrgLink(_("Report handling policy"), "wbs:policy", "members.manage"))
        from cegah.wbs.conversation import register as register_conversation

        register_conversation()
        LOGIN_HOOKS.append(on_login)
        PASSWORD_CHANGED_HOOKS.append(on_password_changed)
        ROLE_REMOVED_HOOKS.append(on_role_removed)
        DEMO_STEPS.append(deferred_step("cegah.wbs.demo"))
