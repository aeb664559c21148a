"""The Grafana dashboard and the Prometheus alert rules use only metrics the service really exposes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from adapters.observability.metrics import Metrics

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
NAME = re.compile(r"\binspector_bot_[a-z0-9_]+")


def exposed() -> set[str]:
    return Metrics().names()


def test_the_dashboard_loads_and_every_panel_queries_existing_metrics():
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "inspector-bot.json").read_text())
    assert isinstance(dashboard["schemaVersion"], int) and dashboard["schemaVersion"] >= 36  # Grafana 9+
    assert dashboard["uid"] and dashboard["title"] and dashboard["panels"]
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    names = exposed()
    used = set()
    for panel in dashboard["panels"]:
        assert panel["type"] in {"timeseries", "stat", "gauge", "table"} and panel["gridPos"]["w"] <= 24
        assert panel["targets"], f"panel {panel['title']!r} has no query"
        for target in panel["targets"]:
            found = set(NAME.findall(target["expr"]))
            assert found, f"panel {panel['title']!r} queries no inspector_bot_ metric"
            assert found <= names, f"panel {panel['title']!r} uses unknown metrics {found - names}"
            used |= found
    # Every metric family is on the dashboard somewhere.
    families = {n.removesuffix("_total").removesuffix("_bucket") for n in used}
    for family in Metrics().registry.collect():
        assert family.name in families, f"{family.name} is on no panel"


def test_alert_rules_cover_the_required_cases_with_existing_metrics():
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    alerts = {rule["alert"]: rule for group in rules["groups"] for rule in group["rules"]}
    names = exposed()
    for rule in alerts.values():
        assert set(NAME.findall(rule["expr"])) <= names, rule["alert"]
        assert rule["annotations"]["summary"] and rule["labels"]["severity"] in {"warning", "critical"}
    exprs = {name: rule["expr"] for name, rule in alerts.items()}
    assert any("engine_turns_total" in e and "send_errors_total" in e for e in exprs.values())  # error rate
    assert any("inspector_bot_dead_letters" in e for e in exprs.values())
    assert any("inspector_breaker_state" in e and ">= 2" in e for e in exprs.values())
    assert any("oldest_pending_seconds" in e and "> 60" in e for e in exprs.values())


def test_prometheus_scrapes_the_web_service_and_loads_the_rules():
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]
    job = config["scrape_configs"][0]
    assert job["metrics_path"] == "/metrics" and job["static_configs"][0]["targets"] == ["web:8000"]
