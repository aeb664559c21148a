"""The live-mode rule: with WhatsApp credentials, every development default is named and refused."""

from __future__ import annotations

from adapters.liveness import MIN_SECRET_KEY, live_mode_problems
from adapters.settings import Settings

LIVE = dict(whatsapp_token="t", whatsapp_phone_id="1")
COMPLETE = dict(LIVE, whatsapp_app_secret="s", whatsapp_verify_token="v", redis_url="redis://r:6379/0",
                inspector_api_base_url="https://inspector.example/api", smtp_host="smtp.example",
                secret_key="k" * MIN_SECRET_KEY)
NAMES = ["WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN", "REDIS_URL", "INSPECTOR_API_BASE_URL", "SMTP_HOST",
         "SECRET_KEY"]


def test_every_missing_setting_is_named_at_once():
    problems = live_mode_problems(Settings(**LIVE))
    assert [p.split(" ")[0] for p in problems] == NAMES


def test_each_setting_alone_is_enough_to_refuse():
    assert live_mode_problems(Settings(**COMPLETE)) == []
    for field, name in [("whatsapp_app_secret", "WHATSAPP_APP_SECRET"), ("whatsapp_verify_token", "WHATSAPP_VERIFY_TOKEN"),
                        ("redis_url", "REDIS_URL"), ("inspector_api_base_url", "INSPECTOR_API_BASE_URL"),
                        ("smtp_host", "SMTP_HOST")]:
        problems = live_mode_problems(Settings(**{**COMPLETE, field: ""}))
        assert [p.split(" ")[0] for p in problems] == [name]


def test_a_short_or_default_secret_key_is_weak():
    assert "SECRET_KEY is 1 characters" in live_mode_problems(Settings(**{**COMPLETE, "secret_key": "x"}))[0]
    short = live_mode_problems(Settings(**{**COMPLETE, "secret_key": "k" * (MIN_SECRET_KEY - 1)}))
    assert len(short) == 1 and short[0].startswith("SECRET_KEY")
    default = live_mode_problems(Settings(**{**COMPLETE, "secret_key": Settings().secret_key}))
    assert len(default) == 1 and "development default" in default[0]


def test_without_whatsapp_credentials_the_embedded_defaults_stay():
    assert live_mode_problems(Settings()) == []
    assert live_mode_problems(Settings(whatsapp_token="t")) == []
