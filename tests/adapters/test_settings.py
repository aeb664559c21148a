"""Settings: one typed model read from the environment in one place, every bad variable named at once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from adapters.settings import Settings, SettingsError

ROOT = Path(__file__).resolve().parents[2]


def test_variables_are_read_typed_and_empty_means_default():
    s = Settings.from_env({"REDIS_URL": "redis://r:6379/0", "PIPELINE_PARTITIONS": "4", "INSPECTOR_TIMEOUT": "2.5",
                           "WHATSAPP_READ_RECEIPTS": "off", "SMTP_HOST": "  ", "LOG_FORMAT": " JSON "})
    assert (s.redis_url, s.pipeline_partitions, s.inspector_timeout) == ("redis://r:6379/0", 4, 2.5)
    assert s.read_receipts is False and s.smtp_host == "" and s.log_format == "json"
    assert Settings.from_env({}) == Settings()


def test_building_settings_never_reads_the_environment(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://from-env")
    assert Settings().redis_url == "" and Settings.from_env().redis_url == "redis://from-env"


def test_every_malformed_variable_is_named_at_once():
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"PIPELINE_PARTITIONS": "0", "INSPECTOR_TIMEOUT": "soon", "WHATSAPP_READ_RECEIPTS": "maybe"})
    message = str(caught.value)
    assert "PIPELINE_PARTITIONS='0'" in message and "INSPECTOR_TIMEOUT='soon'" in message
    assert "WHATSAPP_READ_RECEIPTS='maybe'" in message


def test_secrets_stay_out_of_the_repr():
    shown = repr(Settings(whatsapp_token="tok-123", secret_key="k" * 40, smtp_password="pw-456", api_key="key-789"))
    assert "tok-123" not in shown and "pw-456" not in shown and "key-789" not in shown


def test_the_command_line_explains_a_bad_variable_instead_of_a_traceback():
    done = subprocess.run([sys.executable, "main.py", "schema"], cwd=ROOT, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "CONVERSATION_TTL": "a day"}, timeout=60)
    assert done.returncode == 2
    assert "CONVERSATION_TTL='a day'" in done.stderr and "Traceback" not in done.stderr
