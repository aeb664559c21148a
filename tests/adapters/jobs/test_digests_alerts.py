"""Daily digests (inspectors: today; agents: tomorrow) and property alerts matched to preferences."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from adapters.inspector.models import AlertPreferences, Property
from adapters.inspector.sandbox_store import SandboxStore
from adapters.jobs.alerts import HIGH_WATER
from tests.adapters.jobs.support import PHONES, now
from tests.shipped import shipped_spec, shows


async def test_daily_digest_goes_to_inspectors_with_inspections_today_and_agents_with_tomorrows(world, graph):
    # The sandbox seeded and the digest run at one instant: by the wall clock, a run across midnight in Lagos
    # seeded "today" on one day and sent the digest of the next.
    at = datetime(2026, 12, 1, 7, 0, tzinfo=ZoneInfo("Africa/Lagos"))
    world.runtime.inspector.sandbox_app.state.store = SandboxStore.load(None, lambda: at)
    world.jobs.clock = lambda: at
    # Sandbox seed: Ngozi inspects ins_001 and ins_002 today; Emeka nothing today; tomorrow ins_007 is on
    # Amaka's property; Tunde's properties have nothing tomorrow.
    await world.link("usr_ngozi", "usr_emeka", "usr_tunde", inbound_at=at - timedelta(hours=1))
    await world.link("usr_amaka")  # never wrote to us: outside the window
    await world.scheduler.enqueue("send_daily_digests")
    await world.scheduler.enqueue("send_daily_digests")  # a second run (a retry, a second worker)
    await world.run_jobs()

    sent = {c.to: c for c in graph.messages}
    assert set(sent) == {PHONES["usr_ngozi"], PHONES["usr_amaka"]}
    ngozi = sent[PHONES["usr_ngozi"]]
    assert ngozi.json["type"] == "interactive" and shows(shipped_spec().notifications["inspector_daily"].text, ngozi.text)
    assert "INS-7K3Q" in ngozi.text and "INS-4MX9" in ngozi.text
    amaka = sent[PHONES["usr_amaka"]]
    assert amaka.json["template"]["name"] == "agent_daily_summary"
    assert len(graph.messages) == 2


def listing(pid: str, *, location: str, price: int, bedrooms: int, minutes_ago: int) -> Property:
    return Property(id=pid, title=f"Listing {pid}", location=location, price=price, bedrooms=bedrooms,
                    agent_id="usr_tunde", created_at=now() - timedelta(minutes=minutes_ago))


async def test_property_alerts_match_preferences_one_message_per_seeker_at_most_three(world, graph):
    sandbox = world.sandbox
    await world.jobs.store.set_high_water(HIGH_WATER, now() - timedelta(hours=1))  # the seed is older
    for index in range(4):  # four new Lekki 3-beds within Ada's budget: she hears of the newest three
        prop = listing(f"prp_new{index}", location="Lekki, Lagos", price=50_000_000, bedrooms=3, minutes_ago=10 + index)
        sandbox.properties[prop.id] = prop
    expensive = listing("prp_dear", location="Lekki, Lagos", price=90_000_000, bedrooms=4, minutes_ago=5)
    sandbox.properties[expensive.id] = expensive
    sandbox.alerts["usr_ada"] = AlertPreferences(user_id="usr_ada", enabled=True, location="lekki",
                                                 max_price=80_000_000, bedrooms=3)
    sandbox.alerts["usr_chidi"] = AlertPreferences(user_id="usr_chidi", enabled=True, location="Abuja")  # no match
    sandbox.alerts["usr_bola"] = AlertPreferences(user_id="usr_bola", enabled=False, location="Lekki")  # alerts off
    await world.link("usr_ada", "usr_chidi", "usr_bola", inbound_at=now() - timedelta(minutes=30))

    await world.scheduler.enqueue("send_property_alerts")
    await world.run_jobs()
    [alert] = graph.messages
    assert alert.to == PHONES["usr_ada"] and alert.json["type"] == "interactive"
    assert [f"Listing prp_new{i}" in alert.text for i in range(4)] == [True, True, True, False]
    # The line staff wrote for the ones left out, as flows.yaml words it for one more (read, not pinned).
    more = world.runtime.engine.flows.render(shipped_spec().notifications["property_alert"].text,
                                             {"properties": [], "more": 1}).strip().splitlines()[-1]
    assert more in alert.text
    assert "prp_dear" not in alert.text
    buttons = [b["reply"]["id"] for b in alert.json["interactive"]["action"]["buttons"]]
    assert buttons == ["browse_alerts", "stop_alerts"]

    # The high-water mark moved: the next run has nothing new, so nobody hears twice.
    assert await world.jobs.store.high_water(HIGH_WATER) == sandbox.properties["prp_dear"].created_at
    await world.scheduler.enqueue("send_property_alerts")
    await world.run_jobs()
    assert len(graph.messages) == 1
