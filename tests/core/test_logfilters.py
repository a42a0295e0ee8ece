import logging

from cegah.core.logfilters import RedactPathsFilter, redact


def test_survey_tokens_are_redacted_from_paths() -> None:
    assert (
        redact("Internal Server Error: /spi/i/AbC123-secret/isi/")
        == "Internal Server Error: /spi/i/…/isi/"
    )
    assert redact("/lapor/pantau/") == "/lapor/pantau/"


def test_filter_rewrites_django_request_records() -> None:
    record = logging.LogRecord(
        "django.request",
        logging.ERROR,
        __file__,
        1,
        "%s: %s",
        ("Internal Server Error", "/spi/i/tok3n-value/mulai/"),
        None,
    )
    RedactPathsFilter().filter(record)
    assert "tok3n-value" not in record.getMessage()
