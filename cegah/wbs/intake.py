"""Intake checks and derived metadata: file types, amount buckets, KPK jurisdiction hints."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from cegah.wbs.models import AmountBucket

KPK_LOSS_THRESHOLD = 1_000_000_000  # Rp1 miliar (UU 19/2019 art. 11)

# Positions of penyelenggara negara (UU 28/1999) and law enforcers (aparat penegak hukum). Matched
# on the reported party's position at intake; only the resulting code is stored.
_OFFICIAL_PATTERNS = re.compile(
    r"\b(menteri|wakil menteri|gubernur|wakil gubernur|bupati|wakil bupati|wali ?kota|wakil wali ?kota|"
    r"walikota|sekda|sekretaris daerah|anggota dprd?|ketua dprd?|dprd|dpr|hakim|jaksa|kajari|kajati|"
    r"polisi|polri|kapolres|kapolda|kapolsek|penyidik|direktur utama|dirut|direksi bumn|komisaris|"
    r"kepala dinas|kadis|kepala badan|eselon i|pejabat eselon|duta besar|rektor|kepala kantor)\b",
    re.IGNORECASE,
)


def amount_bucket(amount: int | None) -> str:
    if amount is None or amount <= 0:
        return AmountBucket.UNKNOWN
    for limit, bucket in (
        (10_000_000, AmountBucket.UNDER_10M),
        (100_000_000, AmountBucket.UNDER_100M),
        (1_000_000_000, AmountBucket.UNDER_1B),
        (10_000_000_000, AmountBucket.UNDER_10B),
    ):
        if amount < limit:
            return bucket
    return AmountBucket.OVER_10B


def kpk_hints(amount: int | None, positions: list[str]) -> list[str]:
    """Return why a report may fall in KPK's jurisdiction, as codes."""
    hints = []
    if amount is not None and amount >= KPK_LOSS_THRESHOLD:
        hints.append("loss_ge_1b")
    if any(_OFFICIAL_PATTERNS.search(p or "") for p in positions):
        hints.append("official")
    return hints


KPK_HINT_LABELS = {
    "loss_ge_1b": _("estimated loss of Rp1 billion or more"),
    "official": _("a state official or law enforcer is reported"),
}


@dataclass(frozen=True)
class FileKind:
    label: str
    magic: tuple[bytes, ...]
    extensions: tuple[str, ...]
    offset: int = 0


FILE_KINDS = (
    FileKind("JPEG", (b"\xff\xd8\xff",), ("jpg", "jpeg")),
    FileKind("PNG", (b"\x89PNG\r\n\x1a\n",), ("png",)),
    FileKind("GIF", (b"GIF87a", b"GIF89a"), ("gif",)),
    FileKind("WebP", (b"RIFF",), ("webp",)),
    FileKind("PDF", (b"%PDF-",), ("pdf",)),
    FileKind("Office", (b"PK\x03\x04",), ("docx", "xlsx", "pptx", "odt", "ods", "zip")),
    FileKind("MP4/M4A/HEIC", (b"ftyp",), ("mp4", "m4a", "mov", "heic", "3gp"), offset=4),
    FileKind("MP3", (b"ID3", b"\xff\xfb", b"\xff\xf3"), ("mp3",)),
    FileKind("OGG/Opus", (b"OggS",), ("ogg", "oga", "opus")),
)


class AttachmentRejected(ValueError):
    """A file refused before storage; the message is user-facing."""


def check_attachment(name: str, head: bytes, size: int) -> None:
    """Refuse a file that is too large, empty, or not of an accepted type (by its first bytes)."""
    if size <= 0:
        raise AttachmentRejected(_("The file “%(name)s” is empty.") % {"name": name})
    if size > settings.WBS_ATTACHMENT_MAX_BYTES:
        raise AttachmentRejected(
            _("The file “%(name)s” is larger than %(mb)s MB.")
            % {"name": name, "mb": settings.WBS_ATTACHMENT_MAX_BYTES // (1024 * 1024)}
        )
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension == "txt":
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            if len(head) < 4096:  # a cut multi-byte character at the end of a long head is fine
                raise AttachmentRejected(
                    _("The file “%(name)s” is not plain text.") % {"name": name}
                ) from exc
        return
    for kind in FILE_KINDS:
        if extension in kind.extensions and any(
            head[kind.offset : kind.offset + len(m)] == m for m in kind.magic
        ):
            return
    raise AttachmentRejected(
        _(
            "The file “%(name)s” is not an accepted type. Accepted: photos (JPG, PNG, WebP, HEIC), PDF, "
            "Office documents, audio and video (MP3, M4A, OGG, MP4), and text."
        )
        % {"name": name}
    )
