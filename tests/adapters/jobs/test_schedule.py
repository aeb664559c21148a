"""The cron schedule: when each periodic job fires (arq's own next_cron over our cron definitions)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from arq.cron import next_cron

from adapters.jobs.worker import alert_hours, cron_jobs
from adapters.settings import Settings

LAGOS = ZoneInfo("Africa/Lagos")


def next_run(job, after: datetime) -> datetime:
    return next_cron(after, hour=job.hour, minute=job.minute, second=job.second, microsecond=job.microsecond)


def by_name(jobs, name: str):
    [job] = [j for j in jobs if j.name == name]
    return job


def test_daily_digest_fires_once_a_day_at_the_configured_hour():
    digest = by_name(cron_jobs(Settings().model_copy(update=dict(daily_digest_hour=7))), "daily_digest")
    first = next_run(digest, datetime(2026, 11, 26, 5, 30, tzinfo=LAGOS))
    assert (first.hour, first.minute, first.second) == (7, 0, 0)
    second = next_run(digest, first)
    assert (second - first).total_seconds() == 24 * 3600  # not every minute: minute={0} is set


def test_alerts_fire_every_interval_on_the_hour():
    alerts = by_name(cron_jobs(Settings().model_copy(update=dict(alerts_interval_hours=2))), "property_alerts")
    assert alerts.hour == set(range(0, 24, 2)) and alerts.minute == {0}
    run = next_run(alerts, datetime(2026, 11, 26, 5, 30, tzinfo=LAGOS))
    assert (run.hour, run.minute) == (6, 0)
    assert (next_run(alerts, run) - run).total_seconds() == 2 * 3600
    assert alert_hours(5) == {0, 5, 10, 15, 20} and alert_hours(0) == set(range(24))


def test_the_reminder_sweep_fires_every_hour_at_half_past():
    sweep = by_name(cron_jobs(Settings()), "reminder_sweep")
    run = next_run(sweep, datetime(2026, 11, 26, 5, 40, tzinfo=LAGOS))
    assert (run.hour, run.minute, run.second) == (6, 30, 0)
    assert (next_run(sweep, run) - run).total_seconds() == 3600


def test_the_booking_sweep_fires_every_ten_minutes_off_the_hour_and_the_half_hour():
    sweep = by_name(cron_jobs(Settings()), "booking_sweep")
    run = next_run(sweep, datetime(2026, 11, 26, 5, 40, tzinfo=LAGOS))
    assert (run.hour, run.minute, run.second) == (5, 45, 0)
    runs = [run]
    for _ in range(6):
        runs.append(next_run(sweep, runs[-1]))
    assert {(b - a).total_seconds() for a, b in zip(runs, runs[1:], strict=False)} == {600}
    assert not {r.minute for r in runs} & {0, 30}  # where the digests, alerts and reminder sweep queue
