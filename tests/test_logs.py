"""Structured logs (crm_portal.logs): with LOG_FORMAT=json a log line is one JSON
object with the time, level, logger, message, the traceback and the caller's
extra fields; Chinese stays readable."""

import json
import logging
import subprocess
import sys
from pathlib import Path

from crm_portal.logs import JsonFormatter

ROOT = Path(__file__).resolve().parent.parent


def _line(record: logging.LogRecord) -> dict:
    return json.loads(JsonFormatter().format(record))


def test_a_log_line_is_one_json_object_with_its_fields():
    logger = logging.getLogger("customers.ingest")
    record = logger.makeRecord(
        "customers.ingest", logging.WARNING, __file__, 1, "批次 %s 拒绝", ("20261206",), None,
        extra={"load_id": 42, "rows": 1_000_000},
    )  # fmt: skip
    line = _line(record)
    assert line["level"] == "WARNING" and line["logger"] == "customers.ingest"
    assert line["message"] == "批次 20261206 拒绝"
    assert (line["load_id"], line["rows"]) == (42, 1_000_000)
    assert line["time"].endswith("+00:00") and "T" in line["time"]
    assert "exception" not in line
    assert "批次" in JsonFormatter().format(record)  # not \\u-escaped


def test_an_exception_keeps_its_traceback():
    try:
        raise ValueError("bad row")
    except ValueError:
        record = logging.getLogger("x").makeRecord(
            "x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info()
        )
    line = _line(record)
    assert "ValueError: bad row" in line["exception"] and "Traceback" in line["exception"]


def test_the_setting_switches_a_process_to_json_lines():
    code = "import logging, django; django.setup(); logging.getLogger('crm').warning('一行')"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "crm_portal.settings.local",
            "LOG_FORMAT": "json",
        },
        capture_output=True,
        text=True,
        check=True,
    )
    line = json.loads(done.stderr.strip().splitlines()[-1])
    assert (line["logger"], line["message"], line["level"]) == ("crm", "一行", "WARNING")
