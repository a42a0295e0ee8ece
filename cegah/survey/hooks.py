"""The survey's hooks into the channels layer: opt-out replies and delivery statuses."""

from __future__ import annotations

from typing import Any

from cegah.channels.inbound import InboundEvent


def on_inbound(event: InboundEvent) -> bool:
    """Consume "STOP" / "BERHENTI" replies: opt the sender's open invitations out of reminders.

    Other messages are left for the other handlers (the WBS conversation).
    """
    from cegah.survey import services

    if event.kind != "text" or event.text.strip().lower() not in services.STOP_WORDS:
        return False
    if event.channel not in {"whatsapp", "sms"}:
        return False
    opted = services.opt_out_address(event.sender_address)
    return opted > 0


def on_status(sender: Any, message: Any, status: str, previous: str, **kwargs: Any) -> None:
    if getattr(message, "purpose", "") != "survey.invitation":
        return
    from cegah.survey import services

    services.record_delivery(message.idempotency_key, str(status))
