"""The dashboard and the alert rules name only metrics the code exports (a renamed metric would leave a
silent, empty panel or an alert that can never fire)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from shared.metrics import build_metrics

ROOT = Path(__file__).resolve().parents[2]
OBSERVABILITY = ROOT / "deploy" / "observability"


def exported() -> set[str]:
    names = set()
    for family in build_metrics().registry.collect():
        names.add(family.name)
        suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}
        names.update(family.name + suffix for suffix in suffixes[family.type])
    return names


def referenced(expr: str) -> set[str]:
    return set(re.findall(r"\bfleet_[a-z_]+\b", expr))


def test_the_dashboards_queries_use_exported_metrics() -> None:
    dashboard = json.loads((OBSERVABILITY / "grafana-dashboard.json").read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    used = set().union(*(referenced(e) for e in exprs))
    assert len(used) >= 12 and used <= exported(), used - exported()


def test_the_alert_rules_use_exported_metrics_and_say_what_to_do() -> None:
    rules = [
        rule
        for group in yaml.safe_load((OBSERVABILITY / "alerts.yaml").read_text())["groups"]
        for rule in group["rules"]
    ]
    assert {"FleetQueueBacklog", "FleetDeadLetters", "FleetSyncLagging", "FleetIngressErrors"} <= {
        r["alert"] for r in rules
    }
    for rule in rules:
        assert referenced(rule["expr"]) and referenced(rule["expr"]) <= exported(), rule["alert"]
        assert rule["annotations"]["summary"] and rule["labels"]["severity"] in ("page", "ticket")


def test_the_autoscalers_query_exported_metrics() -> None:
    for path in [*ROOT.glob("deploy/k8s/**/*.yaml"), *ROOT.glob("deploy/fly/*.toml")]:
        assert referenced(path.read_text()) <= exported(), path
