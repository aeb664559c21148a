"""Logging for every process: text or one JSON object per line, turn correlation, personal data masked.

`configure_logging` installs one stderr handler on the root logger and routes third-party loggers (uvicorn,
httpx, pywa, arq) through it, so the same two filters see every record whoever logged it:

- `RedactingFilter` renders the message (arguments and traceback included) and masks it (`redaction.py`);
- `CorrelationFilter` copies the running turn (`engine.context`) onto the record: turn id, wamid, masked
  phone, flow and state.

uvicorn must be started with `log_config=None` so its access log comes here instead of its own handler.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import IO, Any

from adapters.observability.redaction import Redactor
from adapters.privacy import mask_phone
from engine.context import current_turn

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s%(turn)s"
#: Loggers whose libraries install handlers of their own or stop propagation; they are brought back to root.
THIRD_PARTY = ("uvicorn", "uvicorn.error", "uvicorn.access", "httpx", "httpcore", "pywa", "pywa_async", "arq",
               "arq.worker", "arq.jobs", "sqlalchemy", "alembic", "asyncio")
CORRELATION = ("turn_id", "wamid", "phone", "flow", "state")


class RedactingFilter(logging.Filter):
    """Replaces the record's message, arguments and traceback text by their masked rendering."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self.redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string still gets logged, masked
            message = f"{record.msg} {record.args}"
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class CorrelationFilter(logging.Filter):
    """Adds the running turn's fields (empty outside a turn); the phone is masked here."""

    def filter(self, record: logging.LogRecord) -> bool:
        turn = current_turn()
        if turn is None:
            record.turn_id = record.wamid = record.phone = record.flow = record.state = ""
            record.turn = ""
        else:
            phone = mask_phone(turn.phone) if turn.phone else ""
            record.turn_id, record.wamid, record.phone = turn.turn_id, turn.wamid, phone
            record.flow, record.state = turn.flow, turn.state
            record.turn = f" [turn {turn.turn_id} {phone} {turn.flow}/{turn.state}]"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, the correlation fields set, exc when any."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CORRELATION:
            value = getattr(record, name, "")
            if value:
                entry[name] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


def build_handler(fmt: str, redact: Redactor, stream: IO[str] | None = None) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(RedactingFilter(redact))
    handler.addFilter(CorrelationFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    return handler


def configure_logging(level: str = "INFO", fmt: str = "text", *, secrets: Iterable[str] = (),
                      stream: IO[str] | None = None) -> logging.Handler:
    """Replace the root handlers by one masked handler (`fmt` "json" or "text"); returns it."""
    if fmt not in ("json", "text"):
        raise ValueError(f"LOG_FORMAT must be json or text, got {fmt!r}")
    handler = build_handler(fmt, Redactor(secrets), stream)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in THIRD_PARTY:
        logger = logging.getLogger(name)
        for old in list(logger.handlers):
            logger.removeHandler(old)
        logger.propagate = True
        logger.setLevel(logging.NOTSET)  # the root's level decides (uvicorn.Config may set its own later)
    # httpx logs every request at INFO: useful only when debugging.
    logging.getLogger("httpx").setLevel(logging.NOTSET if level.upper() == "DEBUG" else logging.WARNING)
    # SQLAlchemy logs every statement and its parameters at INFO once its logger follows the root (it sets
    # WARNING on import for that reason): keep its warnings only, whatever LOG_LEVEL says.
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)
    return handler
