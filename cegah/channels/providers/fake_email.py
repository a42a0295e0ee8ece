"""A local fake mail provider: a Django email backend that keeps messages in memory.

The default channel email backend locally, so `make run` sends nothing and prints no addresses or
content to the console (Django's console backend would).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage

logger = logging.getLogger("cegah.channels")

OUTBOX: list[EmailMessage] = []
_LOCK = threading.Lock()


class FakeEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        with _LOCK:
            OUTBOX.extend(email_messages)
        for _message in email_messages:
            logger.info("fake email: message accepted")
        return len(email_messages)


def reset(*_args: Any) -> None:
    with _LOCK:
        OUTBOX.clear()
