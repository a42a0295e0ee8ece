"""Channel tests run against the local fakes with a fixed configuration, never the environment."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from cegah.channels import inbound
from cegah.channels.conf import ChannelsConfig, override_config
from cegah.channels.providers import fake_email
from cegah.channels.providers.fake_twilio import FakeTwilioAPI, fake_twilio
from cegah.channels.providers.fake_whatsapp import FakeGraphAPI, fake_graph
from cegah.channels.providers.whatsapp import sign

PAYLOADS = Path(__file__).parent / "payloads"
APP_SECRET = "test-app-secret"
VERIFY_TOKEN = "test-verify-token"
TWILIO_TOKEN = "test-twilio-token"
WEBHOOK = "/channels/whatsapp/webhook"


@pytest.fixture(autouse=True)
def channels_config() -> Iterator[ChannelsConfig]:
    with override_config(
        ChannelsConfig(),
        whatsapp_app_secret=APP_SECRET,
        whatsapp_verify_token=VERIFY_TOKEN,
        twilio_auth_token=TWILIO_TOKEN,
        public_url="https://cegah.example.id",
        whatsapp_rate_per_second=0,
        twilio_rate_per_second=0,
        email_rate_per_second=0,
        lease_seconds=60,
        retry_base_seconds=1,
        max_attempts=3,
    ) as config:
        yield config


@pytest.fixture(autouse=True)
def only_test_handlers() -> Iterator[None]:
    """Channel tests see only the handlers they register: the apps' own (the WBS conversation,
    survey opt-outs) are set aside and restored afterwards."""
    saved = list(inbound._HANDLERS)
    inbound._HANDLERS.clear()
    yield
    inbound._HANDLERS[:] = saved


@pytest.fixture(autouse=True)
def fakes() -> Iterator[tuple[FakeGraphAPI, FakeTwilioAPI]]:
    graph, twilio = fake_graph(), fake_twilio()
    graph.reset()
    twilio.reset()
    # Like Meta and Twilio, the fakes sign their callbacks with the secrets we are configured with.
    graph.app_secret, twilio.auth_token = APP_SECRET, TWILIO_TOKEN
    fake_email.reset()
    yield graph, twilio
    graph.reset()
    twilio.reset()


@pytest.fixture
def graph(fakes: tuple[FakeGraphAPI, FakeTwilioAPI]) -> FakeGraphAPI:
    return fakes[0]


@pytest.fixture
def twilio(fakes: tuple[FakeGraphAPI, FakeTwilioAPI]) -> FakeTwilioAPI:
    return fakes[1]


@pytest.fixture
def handled() -> Iterator[list[inbound.InboundEvent]]:
    """Register a handler that consumes every message and records what it saw."""
    seen: list[inbound.InboundEvent] = []

    def handler(event: inbound.InboundEvent) -> bool:
        seen.append(event)
        return True

    inbound.register_inbound_handler(handler, name="test.consume-all")
    yield seen
    inbound.unregister_inbound_handler("test.consume-all")


def payload(name: str, *, now: bool = False, **replace: str) -> dict[str, Any]:
    """Load a recorded webhook payload; ``now`` moves its timestamps to the present."""
    text = (PAYLOADS / f"{name}.json").read_text()
    for old, new in replace.items():
        text = text.replace(old, new)
    data = json.loads(text)
    if now:
        for entry in data["entry"]:
            for change in entry["changes"]:
                for item in change["value"].get("messages", []) + change["value"].get(
                    "statuses", []
                ):
                    item["timestamp"] = str(int(time.time()))
    return data


def post_signed(
    client: Client, body: bytes | dict[str, Any], secret: str = APP_SECRET, **extra: Any
) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(
        WEBHOOK,
        data=raw,
        content_type="application/json",
        headers={"X-Hub-Signature-256": sign(raw, secret)},
        **extra,
    )
