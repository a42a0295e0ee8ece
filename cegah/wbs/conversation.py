"""Reporting and follow-up over WhatsApp and SMS, on the channels layer.

WhatsApp walks the reporter through the same 5W+1H report as the web form (category by list, the
narrative, the reported party, place and time, photos and documents as evidence, a summary to
confirm), then creates the report and sends the receipt. SMS has a short keyword flow
(LAPOR <text>, STATUS <receipt>, BANTUAN). Follow-up works like the web: the reporter opens the
report with STATUS <receipt>, then their messages go to the handler until 30 minutes pass without
one (CEGAH_WBS_SESSION_MINUTES), and the handler's public messages come back on the channel they
used.

The conversation state is sealed by the channels layer; the reporter's phone or user id is stored
only encrypted, as contact data inside the report.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cegah.channels.inbound import InboundEvent, register_inbound_handler
from cegah.channels.models import Conversation
from cegah.channels.outbox import queue_message
from cegah.channels.providers.base import Choice, Interactive
from cegah.orgs.models import Organisation
from cegah.wbs import keys, services
from cegah.wbs.intake import AttachmentRejected
from cegah.wbs.models import Category, Channel, Message, Policy, Report

logger = logging.getLogger("cegah.wbs")

PURPOSE = "wbs"
CANCEL_WORDS = {"batal", "cancel", "stop laporan"}
HELP_WORDS = {"bantuan", "help", "menu", "halo", "hai", "hi", "hello", "start", "mulai"}
REPORT_WORDS = {"lapor", "report", "1"}
DONE_WORDS = {"selesai", "done", "lanjut", "next", "tidak ada", "none", "-"}
SEND_WORDS = {"kirim", "send", "ya", "yes"}
RECEIPT_RE = re.compile(r"(\d[\d\s-]{14,30}\d)")
MAX_MEDIA = 5
UNREADABLE_KINDS = {"sticker", "reaction", "location", "unsupported", "system"}


def channel_organisation() -> Organisation | None:
    """The organisation that receives channel reports: the one whose policy says so, else KPK."""
    policy = (
        Policy.objects.filter(receives_channel_reports=True).select_related("organisation").first()
    )
    if policy is not None:
        return policy.organisation
    return services.accepting_organisations().filter(kind=Organisation.Kind.KPK).first()


def _reply(
    event: InboundEvent, text: str, interactive: Interactive | None = None, key: str = ""
) -> None:
    queue_message(
        organisation=event.conversation.organisation,
        purpose=PURPOSE,
        recipients=[(event.channel, event.sender_address)],
        idempotency_key=f"wbs-reply:{event.message.pk}:{key}",
        text=text,
        interactive=interactive,
        conversation=event.conversation,
    )


def handle(event: InboundEvent) -> bool:
    """The inbound handler: consume every message of a conversation that is (or becomes) ours."""
    conversation = event.conversation
    if conversation.purpose not in ("", PURPOSE):
        return False
    if event.channel not in ("whatsapp", "sms"):
        return False
    state = conversation.get_state()
    language = state.get("lang") or conversation.language or "id"
    text = event.text.strip()
    lowered = text.lower()
    if lowered in {"en", "english"}:
        language = "en"
    elif lowered in {"id", "indonesia", "bahasa"}:
        language = "id"
    state["lang"] = language
    with translation.override(language):
        if event.kind in UNREADABLE_KINDS:
            # Stickers, reactions, locations, unknown types: answer politely, keep the step.
            _reply(
                event,
                _("Sorry, I can only read text, photos and documents. Write BANTUAN for the menu."),
                key="unreadable",
            )
            conversation.set_state(state)
            if conversation.purpose != PURPOSE:
                conversation.purpose = PURPOSE
                conversation.save(update_fields=["purpose"])
            return True
        if event.channel == "sms":
            state = _sms(event, state, text, lowered)
        else:
            state = _whatsapp(event, state, text, lowered)
    if conversation.purpose != PURPOSE:
        conversation.purpose = PURPOSE
        conversation.save(update_fields=["purpose"])
    conversation.set_state(state)
    return True


# --- WhatsApp ------------------------------------------------------------------------------------


def _menu(event: InboundEvent) -> None:
    _reply(
        event,
        _("This is the corruption reporting line. You can report without giving your name."),
        Interactive(
            body=_(
                "This is the corruption reporting line. You can report without giving your name. What do you want to do?"
            ),
            choices=(
                Choice("lapor", _("Make a report")),
                Choice("status", _("Check a report")),
                Choice("en", "English"),
            ),
        ),
        key="menu",
    )


def _category_list(event: InboundEvent) -> None:
    choices = tuple(Choice(value, str(label)[:24]) for value, label in Category.choices)
    _reply(
        event,
        _("What kind of corruption is it? Reply with the number:")
        + "\n"
        + "\n".join(f"{i}. {label}" for i, (_v, label) in enumerate(Category.choices, start=1)),
        Interactive(body=_("What kind of corruption is it?"), choices=choices, button=_("Choose")),
        key="category",
    )


def _whatsapp(
    event: InboundEvent, state: dict[str, Any], text: str, lowered: str
) -> dict[str, Any]:
    step = state.get("step", "")
    choice = event.reply_id or lowered
    if lowered in CANCEL_WORDS or choice == "batal":
        _reply(event, _("Cancelled. Nothing was sent. Write LAPOR to start again."), key="cancel")
        return {"lang": state["lang"]}
    if step.startswith("report_") and step != "report_followup":
        return _report_step(event, state, text, lowered, choice)
    if choice == "lapor" or lowered in REPORT_WORDS:
        _category_list(event)
        return {"lang": state["lang"], "step": "report_category", "draft": {}, "media": []}
    if choice == "status" or lowered.startswith("status"):
        return _status(event, state, text)
    # A photo without a caption is follow-up evidence too, not a request for the menu.
    if state.get("session") and (text or event.media) and lowered not in HELP_WORDS:
        return _follow_up(event, state, text)
    _menu(event)
    return {
        "lang": state["lang"],
        **({"session": state["session"]} if state.get("session") else {}),
    }


def _report_step(
    event: InboundEvent, state: dict[str, Any], text: str, lowered: str, choice: str
) -> dict[str, Any]:
    step = state["step"]
    draft: dict[str, Any] = state.setdefault("draft", {})
    if step == "report_category":
        values = list(Category.values)
        picked = choice if choice in values else None
        if picked is None and lowered.isdigit() and 1 <= int(lowered) <= len(values):
            picked = values[int(lowered) - 1]
        if picked is None:
            _category_list(event)
            return state
        draft["category"] = picked
        state["step"] = "report_description"
        _reply(
            event,
            _(
                "What happened? Tell it in your own words: what was done, by whom, and what you saw."
            ),
            key="desc",
        )
    elif step == "report_description":
        if len(text) < 20:
            _reply(
                event,
                _("Please describe what happened in a few sentences (at least 20 characters)."),
                key="desc-short",
            )
            return state
        draft["description"] = text[:20000]
        state["step"] = "report_party"
        _reply(
            event,
            _(
                "Who is reported? Name, position and institution, e.g. “Budi, kepala seksi, Dinas PUPR”. Write - if you don't know."
            ),
            key="party",
        )
    elif step == "report_party":
        if lowered not in DONE_WORDS:
            parts = [p.strip() for p in text.split(",")]
            draft["party"] = {
                "name": parts[0][:200] if parts else "",
                "position": parts[1][:200] if len(parts) > 1 else "",
                "institution": ", ".join(parts[2:])[:200] if len(parts) > 2 else "",
            }
        state["step"] = "report_where"
        _reply(
            event,
            _("Where did it happen? Office, village or site, and the kabupaten/kota."),
            key="where",
        )
    elif step == "report_where":
        draft["where"] = "" if lowered in DONE_WORDS else text[:500]
        state["step"] = "report_when"
        _reply(event, _("When did it happen? A date, a month, or “since 2024”."), key="when")
    elif step == "report_when":
        draft["when"] = "" if lowered in DONE_WORDS else text[:200]
        state["step"] = "report_evidence"
        _reply(
            event,
            _(
                "Do you have evidence? Send photos or documents now (up to 5), then write SELESAI. Write SELESAI if you have none."
            ),
            Interactive(
                body=_("Send photos or documents, or continue."),
                choices=(Choice("selesai", _("Continue")),),
            ),
            key="evidence",
        )
    elif step == "report_evidence":
        if event.media:
            media = state.setdefault("media", [])
            for item in event.media:
                if len(media) < MAX_MEDIA:
                    media.append(
                        {
                            "id": item["id"],
                            "filename": item.get("filename") or "",
                            "mime_type": item.get("mime_type", ""),
                        }
                    )
            _reply(
                event,
                _("Received %(n)s file(s). Send more, or write SELESAI.") % {"n": len(media)},
                key="media",
            )
            return state
        if choice == "selesai" or lowered in DONE_WORDS:
            state["step"] = "report_confirm"
            _reply(
                event,
                _summary(draft, len(state.get("media", []))),
                Interactive(
                    body=_summary(draft, len(state.get("media", []))),
                    choices=(Choice("kirim", _("Send")), Choice("batal", _("Cancel"))),
                ),
                key="confirm",
            )
        else:
            _reply(
                event,
                _("Send photos or documents, or write SELESAI to continue."),
                key="evidence-again",
            )
    elif step == "report_confirm":
        if choice == "kirim" or lowered in SEND_WORDS:
            return _submit(event, state)
        _reply(event, _("Write KIRIM to send the report, or BATAL to cancel."), key="confirm-again")
    return state


def _summary(draft: dict[str, Any], media: int) -> str:
    party = draft.get("party") or {}
    lines = [
        _("Please check your report:"),
        _("Category: %(c)s") % {"c": Category(draft["category"]).label},
        _("What happened: %(d)s") % {"d": draft.get("description", "")[:300]},
        _("Reported: %(p)s") % {"p": ", ".join(v for v in party.values() if v) or "-"},
        _("Where: %(w)s") % {"w": draft.get("where") or "-"},
        _("When: %(w)s") % {"w": draft.get("when") or "-"},
        _("Evidence files: %(n)s") % {"n": media},
    ]
    return "\n".join(lines)


def _safe_name(item: dict[str, str], index: int) -> str:
    name = re.sub(r"[^\w.\- ]", "_", item.get("filename") or "")[:100]
    if "." in name:
        return name
    extension = {
        "image/jpeg": "jpg",
        "image/png": "png",
        "image/webp": "webp",
        "application/pdf": "pdf",
        "audio/ogg": "ogg",
        "audio/mpeg": "mp3",
        "video/mp4": "mp4",
    }.get(item.get("mime_type", ""), "bin")
    return f"bukti-{index}.{extension}"


def _submit(event: InboundEvent, state: dict[str, Any]) -> dict[str, Any]:
    org = channel_organisation()
    if org is None:
        _reply(
            event,
            _("Reports cannot be received right now. Please try again later or use the website."),
            key="no-org",
        )
        return {"lang": state["lang"]}
    draft = state["draft"]
    files = []
    for index, item in enumerate(state.get("media", []), start=1):
        # Straight from the provider into encrypted storage: the bytes are only in memory here.
        media = event.download_media(item["id"])
        files.append(services.IncomingFile(_safe_name(item, index), media.content))
    party = draft.get("party")
    data = services.ReportInput(
        category=draft["category"],
        description=draft["description"],
        reported=[services.ReportedParty(**party)] if party else [],
        where=draft.get("where", ""),
        when=draft.get("when", ""),
        contact=f"{event.channel}:{event.sender_address}",
        extra={"conversation": str(event.conversation.pk)},
    )
    try:
        submitted = services.submit_report(org, data, files, channel=event.channel)
    except Exception as exc:  # a refused file or field: tell the reporter, keep nothing
        logger.warning("wbs conversation: submission refused (%s)", type(exc).__name__)
        _reply(
            event,
            _("The report could not be saved: %(why)s Write LAPOR to start again.")
            % {"why": _reason(exc)},
            key="refused",
        )
        return {"lang": state["lang"]}
    _reply(
        event,
        _(
            "Your report to %(org)s was received. Your receipt code is %(receipt)s. Keep it secret: with "
            "STATUS %(receipt)s you can follow it up here or on the website."
        )
        % {"org": org.name, "receipt": keys.format_receipt(submitted.receipt)},
        key="receipt",
    )
    return {"lang": state["lang"]}


def _reason(exc: Exception) -> str:
    messages = getattr(exc, "messages", None)
    return " ".join(messages) if messages else str(exc)


def _status(event: InboundEvent, state: dict[str, Any], text: str) -> dict[str, Any]:
    match = RECEIPT_RE.search(text)
    if match is None:
        _reply(event, _("Write STATUS followed by your 16-digit receipt code."), key="status-help")
        return {"lang": state["lang"]}
    opened = services.open_reporter_session(match.group(1))
    if opened is None:
        _reply(
            event,
            _("This receipt code does not open a report. Check the 16 digits."),
            key="status-bad",
        )
        return {"lang": state["lang"]}
    token, session = opened
    report = session.report
    unread = list(
        report.messages.exclude(kind=Message.Kind.NOTE)
        .filter(read_by_reporter=False)
        .exclude(kind=Message.Kind.REPORTER)
    )
    context = services.reporter_context(token)
    lines = [
        _("Report %(ref)s: %(status)s.")
        % {"ref": report.reference, "status": report.get_status_display()}
    ]
    if context is not None:
        for message in unread:
            lines.append(
                _("Handler: %(body)s") % {"body": services.decrypt_message(message, context[1])}
            )
        services.mark_read_by_reporter(report)
    lines.append(
        ngettext(
            "You can now write to the handler. This ends %(minutes)s minute after your last "
            "message; BATAL ends it now.",
            "You can now write to the handler. This ends %(minutes)s minutes after your last "
            "message; BATAL ends it now.",
            settings.WBS_SESSION_MINUTES,
        )
        % {"minutes": settings.WBS_SESSION_MINUTES}
    )
    _reply(event, "\n".join(lines), key="status")
    return {"lang": state["lang"], "session": token, "step": "report_followup"}


def _follow_up(event: InboundEvent, state: dict[str, Any], text: str) -> dict[str, Any]:
    context = services.reporter_context(state.get("session"))
    if context is None:
        _reply(
            event,
            _("Your follow-up session ended. Write STATUS and your receipt code to open it again."),
            key="expired",
        )
        return {"lang": state["lang"]}
    report, data_key = context
    files = []
    for index, item in enumerate(event.media, start=1):
        files.append(
            services.IncomingFile(_safe_name(item, index), event.download_media(item["id"]).content)
        )
    try:
        services.reporter_reply(report, data_key, text or _("(evidence added)"), files)
    except (AttachmentRejected, ValidationError) as exc:  # nothing was stored
        _reply(
            event,
            _("Not sent to the handler: %(why)s") % {"why": _reason(exc)},
            key="followup-refused",
        )
        return state
    _reply(event, _("Sent to the handler."), key="followup")
    return state


# --- SMS -----------------------------------------------------------------------------------------


def _sms(event: InboundEvent, state: dict[str, Any], text: str, lowered: str) -> dict[str, Any]:
    keyword, _sep, rest = text.partition(" ")
    keyword = keyword.lower()
    if keyword in {"lapor", "report"}:
        org = channel_organisation()
        if org is None or len(rest.strip()) < 20:
            _reply(
                event,
                _(
                    "Write LAPOR followed by what happened, who, where and when (at least 20 characters)."
                ),
                key="sms-short",
            )
            return {"lang": state["lang"]}
        data = services.ReportInput(
            category=Category.OTHER,
            description=rest.strip()[:20000],
            contact=f"sms:{event.sender_address}",
        )
        submitted = services.submit_report(org, data, [], channel=Channel.SMS)
        _reply(
            event,
            _(
                "Report received by %(org)s. Receipt: %(receipt)s. Keep it secret. STATUS %(receipt)s to follow up."
            )
            % {"org": org.name, "receipt": submitted.receipt},
            key="sms-receipt",
        )
        return {"lang": state["lang"]}
    if keyword == "status":
        return _status(event, state, text)
    if state.get("session") and keyword not in {"bantuan", "help"} and lowered not in CANCEL_WORDS:
        return _follow_up(event, state, text)
    _reply(
        event,
        _(
            "Corruption reports: LAPOR <what, who, where, when>. Follow up: STATUS <receipt code>. You may stay anonymous."
        ),
        key="sms-help",
    )
    return {"lang": state["lang"]}


# --- handler → reporter --------------------------------------------------------------------------


def relay_to_reporter(report: Report, data_key: bytes, message: Message) -> None:
    """Send a handler's public message to a reporter who came by WhatsApp or SMS.

    Inside WhatsApp's 24-hour window it goes as text; outside, the outbox sends the approved
    template configured for this purpose, which asks the reporter to write STATUS to read it.
    """
    if report.channel not in (Channel.WHATSAPP, Channel.SMS) or message.kind == Message.Kind.NOTE:
        return
    content = services.decrypt_content(report, data_key)
    contact = str(content.get("contact", ""))
    conversation_id = str((content.get("extra") or {}).get("conversation", ""))
    channel, _sep, address = contact.partition(":")
    if channel not in ("whatsapp", "sms") or not address:
        return
    body = services.decrypt_message(message, data_key)
    text = _("Message from the handler of %(ref)s: %(body)s") % {
        "ref": report.reference,
        "body": body,
    }
    queue_message(
        organisation=report.organisation,
        purpose=PURPOSE,
        recipients=[(channel, address)],
        idempotency_key=f"wbs-relay:{message.public_id.hex}",
        text=text,
        conversation=Conversation.objects.filter(pk=conversation_id).first()
        if conversation_id.isdigit()
        else None,
    )


def register() -> None:
    register_inbound_handler(handle, name="wbs.conversation", priority=200)
