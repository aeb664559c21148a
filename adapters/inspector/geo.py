"""Distances on the globe, for "Near me": the sandbox sorts by them and the bot shows them."""

from __future__ import annotations

import math

EARTH_RADIUS_KM = 6371.0


def distance_km(lat1: float, lng1: float, lat2: float | None, lng2: float | None) -> float:
    """Great-circle distance (haversine) in kilometres; infinite when the second point is unknown."""
    if lat2 is None or lng2 is None:
        return math.inf
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return EARTH_RADIUS_KM * 2 * math.asin(min(1.0, math.sqrt(a)))


def distance_text(km: float) -> str:
    """`850 m`, `4.2 km`, `37 km`."""
    if km < 1:
        return f"{round(km * 1000, -1):.0f} m"
    return f"{km:.1f} km" if km < 10 else f"{km:.0f} km"
