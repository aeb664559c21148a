"""`/api/v1/metrics`: the same numbers as `/metrics`, as JSON, for people without Prometheus.

Counters and gauges give their value per label set; histograms give count, sum and the mean, and leave
the buckets to Prometheus.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry


def _labels(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items())) or "_"


def summarize(registry: CollectorRegistry) -> dict[str, Any]:
    """`{metric: {"type", "help", "values": {"label=value,...": number}}}`; `_` keys the unlabelled one."""
    out: dict[str, Any] = {}
    for family in registry.collect():
        entry: dict[str, Any] = {"type": family.type, "help": family.documentation, "values": {}}
        values = entry["values"]
        if family.type == "histogram":
            sums: dict[str, float] = {}
            for sample in family.samples:
                key = _labels({k: v for k, v in sample.labels.items() if k != "le"})
                if sample.name.endswith("_count"):
                    values.setdefault(key, {})["count"] = int(sample.value)
                elif sample.name.endswith("_sum"):
                    sums[key] = sample.value
            for key, total in sums.items():
                stats = values.setdefault(key, {"count": 0})
                stats["sum"] = round(total, 6)
                stats["mean"] = round(total / stats["count"], 6) if stats.get("count") else None
        else:
            for sample in family.samples:
                if sample.name.endswith("_created"):
                    continue
                values[_labels(sample.labels)] = sample.value
        name = family.name + ("_total" if family.type == "counter" else "")
        out[name] = entry
    return out
