from __future__ import annotations

import base64

import pytest

from cegah.channels import crypto
from cegah.channels.conf import KNOBS, ChannelsConfig, override_config


def test_sealed_content_opens_only_with_its_associated_data() -> None:
    blob = crypto.seal({"text": "rahasia"}, "inbound:whatsapp_cloud:wamid.1")
    assert crypto.unseal(blob, "inbound:whatsapp_cloud:wamid.1") == {"text": "rahasia"}
    with pytest.raises(crypto.ContentUnreadable):
        crypto.unseal(blob, "inbound:whatsapp_cloud:wamid.2")
    with pytest.raises(crypto.ContentUnreadable):
        crypto.unseal(blob[:-1] + bytes([blob[-1] ^ 1]), "inbound:whatsapp_cloud:wamid.1")


def test_an_explicit_key_replaces_the_derived_one() -> None:
    blob = crypto.seal("x", "a")
    key = base64.b64encode(b"k" * 32).decode()
    with override_config(channels_key=key):
        with pytest.raises(crypto.ContentUnreadable):
            crypto.unseal(blob, "a")
        assert crypto.sender_key("p", "u") != crypto.sender_key("p", "v")
    with override_config(channels_key="c2hvcnQ="), pytest.raises(Exception, match="32 bytes"):
        crypto.seal("x", "a")


def test_every_knob_has_a_cegah_name_and_help() -> None:
    names = [k.metadata["env"] for k in KNOBS]
    assert len(names) == len(set(names))
    assert all(
        n.startswith(
            ("CEGAH_WHATSAPP_", "CEGAH_TWILIO_", "CEGAH_EMAIL_CHANNEL_", "CEGAH_CHANNELS_")
        )
        for n in names
    )
    assert all(k.metadata["help"] for k in KNOBS)


def test_template_per_purpose_is_parsed() -> None:
    config = ChannelsConfig(
        whatsapp_templates="survey.invitation=spi_undangan:id, wbs.reply=wbs_balasan"
    )
    assert config.template_for("survey.invitation") == ("spi_undangan", "id")
    assert config.template_for("wbs.reply") == ("wbs_balasan", "id")
    assert config.template_for("other") is None
