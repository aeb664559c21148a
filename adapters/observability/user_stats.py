"""`GET /api/v1/users/stats`: who uses the bot. Linked users by role and activity from the accounts table,
today's messages and WhatsApp bookings from the daily counters."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from adapters.accounts.database import AccountsDatabase
from adapters.accounts.models import WhatsAppUser
from adapters.observability.daily import DailyCounters


async def user_stats(database: AccountsDatabase, daily: DailyCounters) -> dict[str, Any]:
    now = daily.clock()
    midnight = datetime.combine(daily.today(), time(0), daily.tz)

    def query(session: Any) -> dict[str, Any]:
        table = sa.inspect(WhatsAppUser).local_table
        by_role = dict(session.execute(
            sa.select(table.c.role, sa.func.count()).where(table.c.linked.is_(True)).group_by(table.c.role)).all())

        def count(*where: Any) -> int:
            return int(session.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one())

        return {
            "linked_by_role": {str(role or "unknown"): int(n) for role, n in by_role.items()},
            "linked_total": sum(int(n) for n in by_role.values()),
            "active_24h": count(table.c.last_inbound_at >= now - timedelta(hours=24)),
            "active_7d": count(table.c.last_inbound_at >= now - timedelta(days=7)),
            "links_today": count(table.c.linked.is_(True), table.c.linked_at >= midnight),
        }

    stats = await database.run(query)
    stats["messages_today"] = await daily.get("messages")
    stats["bookings_today"] = await daily.get("bookings")
    stats["date"] = daily.today().isoformat()
    stats["timezone"] = str(daily.tz)
    return stats
