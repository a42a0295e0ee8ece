"""Signals other apps listen to (survey response rates, WBS delivery marks)."""

from django.dispatch import Signal

# Sent after the transaction that changed the status commits, with ``message`` (OutboundMessage),
# ``status`` (new) and ``previous`` (old). Receivers get ids and statuses only; content stays sealed.
message_status_changed = Signal()
