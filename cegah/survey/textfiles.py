"""Decode an uploaded text file (CSV, tab-separated text) in the encodings spreadsheets write.

Excel and LibreOffice in Indonesia save CSV as UTF-8 (with or without a byte order mark), as
Windows-1252 ("CSV (Comma delimited)" on a Windows set to English or Indonesian) or, for
"Unicode Text", as UTF-16 with a byte order mark. The encoding is detected in that order and
named, and nothing is replaced silently: bytes that none of them can read are refused with the
line they are on (a "José" read with replacement characters would be stored as "Jos�" and sent
back to the person in an invitation).
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

UTF8 = "UTF-8"
UTF16 = "UTF-16"
WINDOWS_1252 = "Windows-1252"


class UndecodableText(ValueError):
    """The bytes are not text in any supported encoding.

    ``line`` is the 1-based line of the first byte that cannot be read, or None when the file
    as a whole is not text (binary, or UTF-16/32 without a byte order mark).
    """

    def __init__(self, line: int | None) -> None:
        super().__init__(f"undecodable text (line {line})")
        self.line = line


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # UTF8, UTF16 or WINDOWS_1252: said to the user


def _line_of(content: bytes, position: int) -> int:
    return content.count(b"\n", 0, position) + 1


def decode_text(content: bytes) -> Decoded:
    """Return the text of ``content`` and the encoding it was read in.

    UTF-16 with a byte order mark, else UTF-8 (a leading byte order mark is dropped), else
    Windows-1252. Raises UndecodableText when none of them reads every byte.
    """
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return Decoded(content.decode("utf-16"), UTF16)
        except UnicodeDecodeError as exc:
            # Count lines in the decoded part: a UTF-16 newline is two bytes.
            head = content[: exc.start].decode("utf-16", errors="ignore")
            raise UndecodableText(head.count("\n") + 1) from exc
    if b"\x00" in content:
        # No text encoding of a spreadsheet's CSV has NUL bytes: a binary file, or UTF-16/32
        # without its byte order mark, which cannot be told apart reliably.
        raise UndecodableText(None)
    if content.startswith(codecs.BOM_UTF8):
        try:
            return Decoded(content[len(codecs.BOM_UTF8) :].decode("utf-8"), UTF8)
        except UnicodeDecodeError as exc:
            # A file that says it is UTF-8 and is not: not guessed at.
            raise UndecodableText(_line_of(content, exc.start)) from exc
    try:
        return Decoded(content.decode("utf-8"), UTF8)
    except UnicodeDecodeError:
        pass
    try:
        return Decoded(content.decode("cp1252"), WINDOWS_1252)
    except UnicodeDecodeError as exc:
        # Five bytes (0x81, 0x8D, 0x8F, 0x90, 0x9D) have no character in Windows-1252.
        raise UndecodableText(_line_of(content, exc.start)) from exc
