"""``cegah channels simulate whatsapp``: play a scripted reporter against the running server.

It posts signed WhatsApp webhooks (the same bytes Meta would send) to the server, waits for the
worker to answer, and prints the bot's replies from the outbox, so the whole flow can be shown on a
laptop without a phone. Everything stays on this machine: the fake Graph API answers the sends.
The script sends no photo: the in-process fake's media store lives in the worker's process (the
test suite covers photos end to end).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from typing import Any

import httpx

from cegah.channels.conf import get_config
from cegah.channels.models import OutboundMessage
from cegah.channels.providers.whatsapp import sign

SCRIPT: list[tuple[str, Any]] = [
    ("text", "halo"),
    ("button", "lapor"),
    ("list", "pemerasan"),
    (
        "text",
        "Petugas kelurahan meminta uang Rp300.000 untuk surat keterangan usaha, tanpa kuitansi.",
    ),
    ("text", "Pak Herman, staf pelayanan, Kelurahan Way Halim"),
    ("text", "Kantor Kelurahan Way Halim, Kota Bandar Lampung"),
    ("text", "Setiap minggu sejak September 2026"),
    ("text", "SELESAI"),
    ("button", "kirim"),
]


def _envelope(user_id: str, phone: str, message: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "0",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550000000",
                                "phone_number_id": get_config().whatsapp_phone_number_id,
                            },
                            "contacts": [
                                {
                                    "profile": {"name": "Pelapor Simulasi"},
                                    "wa_id": phone,
                                    "user_id": user_id,
                                }
                            ],
                            "messages": [
                                {
                                    "from": phone,
                                    "from_user_id": user_id,
                                    "id": f"wamid.SIM{secrets.token_hex(8)}",
                                    "timestamp": str(int(time.time())),
                                    **message,
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }


def run(base_url: str, echo: Callable[[str], None], wait_seconds: float = 20.0) -> int:
    """Play the script; return 0 when every step got an answer, 1 otherwise."""
    config = get_config()
    user_id = f"ID.SIM{secrets.randbelow(10**12):012d}"
    phone = f"6281{secrets.randbelow(10**8):08d}"
    client = httpx.Client(base_url=base_url, timeout=10)
    missing = 0
    for kind, value in SCRIPT:
        since = OutboundMessage.objects.order_by("-id").values_list("id", flat=True).first() or 0
        if kind == "text":
            message: dict[str, Any] = {"type": "text", "text": {"body": value}}
            echo(f"> {value}")
        elif kind in ("button", "list"):
            reply = "button_reply" if kind == "button" else "list_reply"
            message = {
                "type": "interactive",
                "interactive": {"type": reply, reply: {"id": value, "title": value}},
            }
            echo(f"> [{value}]")
        else:
            from cegah.channels.providers.fake_whatsapp import fake_graph

            media_id = fake_graph().add_media(value, "image/jpeg")
            message = {
                "type": "image",
                "image": {"id": media_id, "mime_type": "image/jpeg", "sha256": ""},
            }
            echo("> (photo)")
        raw = json.dumps(_envelope(user_id, phone, message)).encode()
        response = client.post(
            "/channels/whatsapp/webhook",
            content=raw,
            headers={
                "Content-Type": "application/json",
                "X-Hub-Signature-256": sign(raw, config.whatsapp_app_secret),
            },
        )
        if response.status_code != 200:
            echo(f"! the server answered {response.status_code}")
            return 1
        deadline = time.monotonic() + wait_seconds
        answered = False
        while time.monotonic() < deadline:
            replies = list(
                OutboundMessage.objects.filter(id__gt=since, purpose="wbs").order_by("id")
            )
            if replies:
                for reply_message in replies:
                    body = reply_message.body()
                    echo(
                        "< "
                        + str(
                            body.get("text") or (body.get("interactive") or {}).get("body") or body
                        )
                    )
                answered = True
                break
            time.sleep(0.3)
        if not answered:
            echo("! no answer yet: is `cegah worker` running?")
            missing += 1
    return 0 if missing == 0 else 1
