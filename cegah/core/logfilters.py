"""Logging filters that keep secrets carried in URLs out of log lines."""

from __future__ import annotations

import logging
import re

# Survey invitation links carry the respondent's token in the path (/spi/i/<token>/…). Django logs
# the path of every failed request; the token must not end up in the log with it.
_TOKEN_PATH = re.compile(r"(/spi/i/)[^/\s]+")


def redact(text: str) -> str:
    return _TOKEN_PATH.sub(r"\1…", text)


class RedactPathsFilter(logging.Filter):
    """Rewrite a record's message and string arguments with secrets in paths redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True
