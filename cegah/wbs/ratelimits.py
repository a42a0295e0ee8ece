"""Rate limits of the public report form.

Indonesian mobile carriers put many people behind one address (CGNAT), so what is limited per
address is what costs: reports actually filed. Posts that only come back (an error to fix, a
person row added) count against a much higher ceiling that only a flood reaches. Counters live
in the cache under a keyed digest of the address (IPv6 by its /64), never in the database and
never next to a report.
"""

from __future__ import annotations

import ipaddress
import math

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import get_usage

from cegah.core.crypto import derived_secret, keyed_digest

FILED_RATE = "20/h"  # reports filed from one address
RECEIPT_RATE = "30/h"  # receipt codes tried from one address (wrong codes also slow down: throttle)
REPLY_RATE = "60/h"  # follow-up messages from one address
POST_RATE = "300/h"  # posts of the form from one address, whatever they do
GLOBAL_RATE = "600/m"  # posts of the form from everyone


def _client(group: str, request: HttpRequest) -> str:
    address = request.META.get("REMOTE_ADDR", "")
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        network = address
    else:
        prefix = 64 if parsed.version == 6 else 32
        network = str(ipaddress.ip_network(f"{parsed}/{prefix}", strict=False).network_address)
    key = derived_secret(settings.DATA_SECRET.encode(), "wbs-ratelimit")
    return keyed_digest(key, network.encode())[:32]


def _everyone(group: str, request: HttpRequest) -> str:
    return "all"


def _wait(usage: dict[str, int] | None) -> int:
    if usage is None or not usage["should_limit"]:
        return 0
    return max(1, usage["time_left"])


def post_wait(request: HttpRequest) -> int:
    """Count this post of the form; return the seconds to wait if posts are flooding (else 0)."""
    per_client = get_usage(
        request, group="wbs-report-post", key=_client, rate=POST_RATE, increment=True
    )
    overall = get_usage(
        request, group="wbs-report-post-all", key=_everyone, rate=GLOBAL_RATE, increment=True
    )
    return max(_wait(per_client), _wait(overall))


def filing_wait(request: HttpRequest) -> int:
    """Return the seconds to wait before this address may file another report (0 = go ahead)."""
    usage = get_usage(request, group="wbs-report-filed", key=_client, rate=FILED_RATE)
    if usage is None or usage["count"] < usage["limit"]:
        return 0  # checked before filing: the report about to be filed is not counted yet
    return max(1, usage["time_left"])


def count_filing(request: HttpRequest) -> None:
    """Count a report filed from this address."""
    get_usage(request, group="wbs-report-filed", key=_client, rate=FILED_RATE, increment=True)


def receipt_post_wait(request: HttpRequest) -> int:
    """Count a post of the receipt form; return the seconds to wait if over the limit."""
    return _wait(
        get_usage(request, group="wbs-receipt", key=_client, rate=RECEIPT_RATE, increment=True)
    )


def reply_post_wait(request: HttpRequest) -> int:
    """Count a post of the follow-up form; return the seconds to wait if over the limit."""
    return _wait(
        get_usage(request, group="wbs-reply", key=_client, rate=REPLY_RATE, increment=True)
    )


def minutes(seconds: int) -> int:
    """Whole minutes to wait, rounded up (a wait is never shown as 0 minutes)."""
    return max(1, math.ceil(seconds / 60))
