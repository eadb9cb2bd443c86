"""Logging: one JSON object per line on stderr, with the run and action a line is about.

Log lines carry ``run_id`` and ``action`` (pass them in ``extra``) so one run can be followed
across intake and controller. Secrets never reach a log: the code does not log them, and a
filter masks any configured secret value and ``Authorization``/signature headers that might
slip into a message anyway.
"""

from __future__ import annotations

import logging
import logging.config
import re
from collections.abc import Iterable
from typing import Any

from pythonjsonlogger.json import JsonFormatter

_MASK = "***"
_SENSITIVE = re.compile(
    r"(?i)(authorization|x-port-signature|bearer|clientsecret|client_secret)(['\"]?\s*[:=]\s*['\"]?)([^\s,'\"}]+)"
)


class RedactSecrets(logging.Filter):
    """Mask known secret values and credential-looking fields in every record."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = [secret for secret in secrets if secret and len(secret) >= 4]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self.redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, _MASK)
        return _SENSITIVE.sub(lambda match: match.group(1) + match.group(2) + _MASK, text)


def logging_config(*, level: str = "INFO", secrets: Iterable[str] = ()) -> dict[str, Any]:
    """A ``dictConfig`` for the bridge and, under gunicorn, for its error and access logs."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": RedactSecrets, "secrets": list(secrets)}},
        "formatters": {
            "json": {
                "()": JsonFormatter,
                "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            }
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "filters": ["redact"],
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": level.upper(), "handlers": ["stderr"]},
        "loggers": {
            "gunicorn.error": {"level": level.upper(), "handlers": ["stderr"], "propagate": False},
            # Intake logs every run itself (with its run id); per-request access lines would double that.
            "gunicorn.access": {"level": "WARNING", "handlers": ["stderr"], "propagate": False},
            "urllib3": {"level": "WARNING"},
            "kubernetes": {"level": "WARNING"},
        },
    }


def configure_logging(*, level: str = "INFO", secrets: Iterable[str] = ()) -> None:
    """Configure logging before anything else runs (Flask adds its own handler otherwise)."""
    logging.config.dictConfig(logging_config(level=level, secrets=secrets))
