"""`analytics.*` actions: record a property view, and an agent's per-property numbers over 7 and 30 days."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from adapters.analytics.views import ViewCounter
from adapters.inspector.action_support import current_user, forbid_unless, handles_errors
from adapters.inspector.client import InspectorClient
from engine.actions import ActionContext, ActionRegistry

log = logging.getLogger(__name__)
PERIODS = (7, 30)


def register_analytics_actions(registry: ActionRegistry, views: ViewCounter, inspector: InspectorClient) -> None:
    async def record_view(ctx: ActionContext, property_id: str) -> dict[str, Any]:
        """Never fails the journey: a view that cannot be counted is logged and skipped."""
        try:
            return {"views_today": await views.record(str(property_id))}
        except Exception as exc:  # Redis hiccup: the seeker still sees the property
            log.warning("view of %s not counted: %s", property_id, type(exc).__name__)
            return {"views_today": None}

    @handles_errors("That property could not be found.")
    async def property_stats(ctx: ActionContext, property_id: str) -> dict[str, Any]:
        """Views (counted here) and bookings, completed, cancelled, no-shows and saves (Inspector's) per period."""
        user = current_user(ctx, "agent")
        prop = await inspector.get_property(str(property_id))
        forbid_unless(prop.agent_id == str(user["id"]), "property belongs to another agent")
        out: dict[str, Any] = {"property_id": prop.id, "title": prop.title}
        for days in PERIODS:
            stats, seen = await asyncio.gather(inspector.property_stats(prop.id, ctx.now - timedelta(days=days)),
                                               views.count(prop.id, days))
            out[f"d{days}"] = {**stats.model_dump(mode="json", exclude={"property_id", "since"}), "views": seen}
        return out

    registry.register("analytics.record_view", record_view)
    registry.register("analytics.property_stats", property_stats)
