"""What the reporter is told about their report: a timeline in plain language.

Built from the events marked visible to the reporter, and only from what they say about the
report's path (received, stages, referral with the receiving institution, questions, closing):
never who handles it, internal notes, labels or priorities.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cegah.wbs.models import Event, Outcome, Referral, Report, Status


@dataclass(frozen=True)
class Step:
    at: datetime
    text: str
    kind: str


def _stage_text(event: Event, holder: str) -> str | None:
    data: dict[str, Any] = event.data or {}
    to, previous = data.get("to"), data.get("from")
    names = {"org": holder}
    if to == Status.VERIFICATION and previous == Status.ARCHIVED:
        return _("%(org)s reopened your report.") % names
    if to == Status.VERIFICATION:
        return (
            _(
                "%(org)s is checking your report: whether it is about corruption and theirs to "
                "handle (verification)."
            )
            % names
        )
    if to == Status.ASSESSMENT:
        return _("%(org)s is assessing your report in depth.") % names
    if to == Status.FOLLOW_UP:
        return _("%(org)s is following your report up: gathering data and information.") % names
    if to == Status.ARCHIVED:
        return _("%(org)s archived your report: it is not followed up for now.") % names
    if to == Status.CLOSED:
        outcome = data.get("outcome")
        if outcome in Outcome.values:
            return _("%(org)s closed your report. Outcome: %(outcome)s.") % {
                **names,
                "outcome": Outcome(outcome).label,
            }
        return _("%(org)s closed your report.") % names
    if to == Status.REFERRED:
        # Set from the status list before referral was a recorded action: the report did not
        # move, so nothing is said about another institution.
        return (
            _("%(org)s marked your report as referred, without naming an institution to take it.")
            % names
        )
    return None


def reporter_timeline(report: Report) -> list[Step]:
    """Return the report's path for the reporter, oldest first."""
    events = list(report.events.filter(visible_to_reporter=True).order_by("created_at", "id"))
    referrals = [e for e in events if e.kind == "referred"]
    holder = str(referrals[0].data.get("from")) if referrals else report.organisation.name
    steps: list[Step] = []
    for event in events:
        text: str | None = None
        data: dict[str, Any] = event.data or {}
        if event.kind == "received":
            text = _("%(org)s received your report.") % {"org": holder}
        elif event.kind == "status_changed":
            text = _stage_text(event, holder)
        elif event.kind == "referred":
            target = str(data.get("to") or "")
            text = _("%(from)s referred your report to %(to)s, which handles it from now on.") % {
                "from": data.get("from") or holder,
                "to": target,
            }
            holder = target or holder
        elif event.kind == "message_question":
            text = _("The handler asked you a question.")
        elif event.kind == "message_handler":
            text = _("The handler sent you a message.")
        elif event.kind == "reporter_message":
            files = int(data.get("attachments") or 0)
            text = (
                ngettext(
                    "You sent a message with %(count)s file.",
                    "You sent a message with %(count)s files.",
                    files,
                )
                % {"count": files}
                if files
                else _("You sent a message.")
            )
        if text is not None:
            steps.append(Step(at=event.created_at, text=text, kind=event.kind))
    return steps


def first_organisation(report: Report) -> str:
    """The name of the institution the reporter sent the report to."""
    first = report.referrals.select_related("from_org").order_by("created_at", "id").first()
    return first.from_org.name if first is not None else report.organisation.name


def last_referral(report: Report) -> Referral | None:
    """The referral that brought the report to the institution handling it now, if any."""
    return report.referrals.select_related("to_org").order_by("-created_at", "-id").first()


# --- the handlers' case history ------------------------------------------------------------------


def _label(choices: Any, value: object) -> str:
    """The translated label of a stored code; the code itself only if it is unknown."""
    if value in (None, ""):
        return ""
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def describe_events(events: list[Event]) -> list[Event]:
    """Give each event ``shown``: its codes as translated labels and people by display name.

    Events store codes and usernames (metadata, stable across languages); the history page
    showed them raw ("received → verification", "handler.budi").
    """
    from cegah.accounts.models import User
    from cegah.wbs.models import Channel, Priority

    usernames = {
        str(name)
        for event in events
        if event.kind in {"assigned", "unassigned"}
        for name in (event.data.get("to"), event.data.get("from"))
        if name
    }
    names = {
        user.username: user.display_name for user in User.objects.filter(username__in=usernames)
    }
    for event in events:
        data: dict[str, Any] = event.data or {}
        shown: dict[str, str] = {}
        if event.kind == "status_changed":
            shown = {
                "from": _label(Status, data.get("from")),
                "to": _label(Status, data.get("to")),
                "outcome": _label(Outcome, data.get("outcome")),
            }
        elif event.kind == "priority_changed":
            shown = {
                "from": _label(Priority, data.get("from")),
                "to": _label(Priority, data.get("to")),
            }
        elif event.kind in {"assigned", "unassigned"}:
            shown = {
                key: names.get(str(data.get(key)), str(data.get(key)))
                for key in ("to", "from")
                if data.get(key)
            }
        elif event.kind == "received":
            shown = {"channel": _label(Channel, data.get("channel"))}
        elif event.kind == "referred":
            shown = {
                "from": str(data.get("from") or ""),
                "to": str(data.get("to") or ""),
                "reason": _label(Referral.Reason, data.get("reason")),
            }
        event.shown = shown  # type: ignore[attr-defined]
    return events
