"""Provider webhooks. Public but signature-protected, CSRF-exempt (providers have no CSRF token),
and they never log bodies, phone numbers or user ids: counts only.

Each view checks that a signature is present before anything else and answers 403 without storing
anything when it is missing or wrong; the work after recording is done by tasks.

Only refused requests are rate-limited (per address). Verified calls are not: Meta and Twilio post
status callbacks in bursts from few addresses during a blast, and throttling them would delay the
confirmations the outbox waits for before it may send again. A signature can only come from the
provider, and recording is idempotent, so a replayed call changes nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.core import is_ratelimited

from cegah.channels.inbound import receive
from cegah.channels.providers import get_channel
from cegah.channels.providers.base import BadWebhook

logger = logging.getLogger("cegah.channels")


def _refuse(request: HttpRequest) -> HttpResponse:
    """403 for a bad or missing signature; 429 once one address keeps trying."""
    if is_ratelimited(
        request, group="channels.bad_signature", key="ip", rate="60/m", increment=True
    ):
        return HttpResponse(status=429)
    return HttpResponseForbidden()


def _log(name: str, result: Any) -> None:
    logger.info(
        "%s webhook: %d new, %d repeated, %d statuses, %d skipped",
        name,
        result.new,
        result.duplicates,
        result.statuses,
        result.skipped,
    )


@csrf_exempt
@require_http_methods(["GET", "POST"])
def whatsapp_webhook(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        mode = request.GET.get("hub.mode", "")
        token = request.GET.get("hub.verify_token", "")
        if not mode or not token:
            return _refuse(request)
        channel = get_channel("whatsapp")
        if not channel.verify_handshake(mode, token):  # type: ignore[attr-defined]
            return _refuse(request)
        return HttpResponse(request.GET.get("hub.challenge", ""), content_type="text/plain")
    if not request.headers.get("X-Hub-Signature-256"):
        return _refuse(request)
    channel = get_channel("whatsapp")
    if not channel.verify_inbound(request):
        return _refuse(request)
    try:
        parsed = channel.parse_inbound(request)
    except BadWebhook:
        logger.warning("whatsapp webhook: malformed body refused")
        return HttpResponse(status=400)
    _log("whatsapp", receive(channel, parsed))
    return HttpResponse("OK", content_type="text/plain")


def _twilio(request: HttpRequest) -> tuple[Any, HttpResponse | None]:
    if not request.headers.get("X-Twilio-Signature"):
        return None, _refuse(request)
    channel = get_channel("sms")
    if not channel.verify_inbound(request):
        return None, _refuse(request)
    try:
        return channel.parse_inbound(request), None
    except BadWebhook:
        logger.warning("sms webhook: malformed body refused")
        return None, HttpResponse(status=400)


@csrf_exempt
@require_POST
def twilio_sms_webhook(request: HttpRequest) -> HttpResponse:
    from cegah.channels.providers.twilio_sms import empty_twiml

    parsed, refusal = _twilio(request)
    if refusal is not None:
        return refusal
    _log("sms", receive(get_channel("sms"), parsed))
    # Replies are queued by the handlers and sent through the REST API, so TwiML stays empty.
    return HttpResponse(empty_twiml(), content_type="application/xml")


@csrf_exempt
@require_POST
def twilio_status(request: HttpRequest) -> HttpResponse:
    parsed, refusal = _twilio(request)
    if refusal is not None:
        return refusal
    _log("sms status", receive(get_channel("sms"), parsed))
    return HttpResponse(status=204)
