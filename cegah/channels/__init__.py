"""Channels: one ``Channel`` interface over WhatsApp Cloud API, Twilio-compatible SMS and email,
the signed webhooks, the inbound pipeline and the reliable outbox (see docs/channels.md).

Other apps use:
- ``cegah.channels.outbox.queue_message`` to send;
- ``cegah.channels.inbound.register_inbound_handler`` to receive;
- ``cegah.channels.signals.message_status_changed`` to follow delivery.
"""
