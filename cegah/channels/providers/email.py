"""Email through Django's mail framework (the site mailer, or a backend class of our own).

Every email carries our own ``Message-ID`` made from the outbox reference, so a send repeated
after a worker died (mail has no delivery callback to reconcile with) reaches the recipient with
the same Message-ID, by which mail systems can recognise the repeat.
"""

from __future__ import annotations

from email.utils import parseaddr
from typing import TYPE_CHECKING

from django.core.mail import EmailMessage
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from cegah.channels.conf import ChannelsConfig
from cegah.channels.providers.base import (
    Channel,
    Outgoing,
    ParsedWebhook,
    PermanentError,
    SendResult,
    TemporaryError,
)

if TYPE_CHECKING:
    from django.http import HttpRequest


class Email(Channel):
    name = "email"
    provider = "email"
    supports_inbound = False

    def __init__(self, config: ChannelsConfig) -> None:
        self.config = config

    def verify_inbound(self, request: HttpRequest) -> bool:
        return False  # no inbound email: nothing may be accepted in its name

    def parse_inbound(self, request: HttpRequest) -> ParsedWebhook:
        return ParsedWebhook()

    def send(self, message: Outgoing) -> SendResult:
        from django.conf import settings

        text = message.text or (message.interactive.as_text() if message.interactive else "")
        if not text:
            raise PermanentError("no_text", "email needs text")
        if "@" not in message.to:
            raise PermanentError("bad_address")
        headers = {}
        if message.reference:
            headers["X-Cegah-Reference"] = message.reference
            headers["Message-ID"] = message_id(message.reference, settings.DEFAULT_FROM_EMAIL)
        email = EmailMessage(
            subject=message.subject or _("Message from Cegah"),
            body=text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.to],
            headers=headers or None,
        )
        try:
            if self.config.email_backend:
                sent = import_string(self.config.email_backend)().send_messages([email])
            else:
                sent = email.send()
        except OSError as exc:  # SMTP connection refused, timeouts
            raise TemporaryError("smtp") from exc
        if not sent:
            raise TemporaryError("not_sent")
        return SendResult(email.extra_headers.get("Message-ID", "") or f"email:{message.reference}")


def message_id(reference: str, from_email: str) -> str:
    """Return the Message-ID of the email for outbox ``reference``: the same for every retry."""
    domain = parseaddr(from_email)[1].rpartition("@")[2] or "cegah.invalid"
    local = "".join(c for c in reference if c.isalnum() or c in ".-")
    return f"<{local}@{domain}>"
