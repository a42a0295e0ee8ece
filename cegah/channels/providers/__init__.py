"""Provider modules behind the one ``Channel`` interface, and the lookup the services use.

Each provider is one module of the same shape (``whatsapp.py``, ``twilio_sms.py``, ``email.py``;
local fakes in ``fake_*.py``). A new provider, such as an Indonesian SMS aggregator, is a copy of a
sibling registered in ``PROVIDERS`` under its channel name.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from cegah.channels.conf import ChannelsConfig, get_config
from cegah.channels.providers.base import Channel

CHANNELS = ("whatsapp", "sms", "email")


def _whatsapp(config: ChannelsConfig) -> Channel:
    from cegah.channels.providers.whatsapp import WhatsAppCloud

    return WhatsAppCloud(config)


def _sms(config: ChannelsConfig) -> Channel:
    from cegah.channels.providers.twilio_sms import TwilioSms

    return TwilioSms(config)


def _email(config: ChannelsConfig) -> Channel:
    from cegah.channels.providers.email import Email

    return Email(config)


PROVIDERS: dict[str, Callable[[ChannelsConfig], Channel]] = {
    "whatsapp": _whatsapp,
    "sms": _sms,
    "email": _email,
}


@functools.lru_cache(maxsize=32)
def _build(name: str, config: ChannelsConfig) -> Channel:
    # One instance (and one pooled HTTP client) per channel and configuration.
    return PROVIDERS[name](config)


def get_channel(name: str) -> Channel:
    """Return the provider for channel ``name`` under the configuration in force; KeyError if none."""
    if name not in PROVIDERS:
        raise KeyError(name)
    return _build(name, get_config())
