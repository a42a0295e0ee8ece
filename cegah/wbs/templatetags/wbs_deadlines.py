"""Deadlines as handlers read them: the date with the working days left ("hari kerja")."""

from __future__ import annotations

from datetime import date

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cegah.wbs.deadlines import working_days_between

register = template.Library()


@register.filter
def working_days_left(due: date | None, today: date) -> str:
    """'5 working days left', 'due today' or '3 working days overdue', counted in working days
    (Indonesian public holidays and weekends excluded) like the deadlines themselves."""
    if due is None:
        return ""
    if due == today:
        return _("due today")
    if due > today:
        left = working_days_between(today, due)
        if left == 0:
            return _("due after the coming days off")
        return ngettext("%(count)s working day left", "%(count)s working days left", left) % {
            "count": left
        }
    late = working_days_between(due, today)
    if late == 0:
        return _("overdue")
    return ngettext("%(count)s working day overdue", "%(count)s working days overdue", late) % {
        "count": late
    }
