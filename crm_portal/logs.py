"""Structured logs (docs/operations.md): with LOG_FORMAT=json every log line is one
JSON object a log collector indexes without parsing: time (UTC, ISO 8601 with
milliseconds), level, logger, message, process and thread, the exception's
traceback when there is one, and any `extra={...}` fields the caller gave."""

from __future__ import annotations

import datetime
import json
import logging

# the attributes every LogRecord has: anything else on a record came from `extra`
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.datetime.fromtimestamp(record.created, tz=datetime.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
            "thread": record.threadName,
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in entry:
                entry[key] = value
        return json.dumps(entry, ensure_ascii=False, default=str)
