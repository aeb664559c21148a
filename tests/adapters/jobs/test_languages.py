"""Notifications reach each recipient in their language: the conversation's, else the account's.

The translation is this test's own (keyed by whatever the reminder's English says in flows.yaml), so it
holds whatever staff write there."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import yaml

from engine.compiler import CompiledFlows
from flows.loader import load_flows
from tests.adapters.jobs.support import PHONES, now
from tests.adapters.jobs.test_reminders import book
from tests.shipped import shipped_spec, shows


def translate_the_reminder(world) -> None:  # type: ignore[no-untyped-def]
    reminder = shipped_spec().notifications["inspection_reminder"]
    texts = [{"en": reminder.text, "pcm": "PCM reminder {{ inspection.reference }}"}]
    texts += [{"en": choice.title, "pcm": f"PCM {index}"} for index, choice in enumerate(reminder.choices)]
    folder = Path(world.settings.flows_path).parent / "translations"
    folder.mkdir()
    (folder / "pcm.yaml").write_text(yaml.safe_dump({"code": "pcm", "name": "Pidgin", "texts": texts},
                                                    allow_unicode=True), encoding="utf-8")
    world.runtime.engine.replace_flows(CompiledFlows(load_flows(world.settings.flows_path)))


async def test_the_reminder_is_sent_in_the_language_kept_on_the_account(world, graph):  # type: ignore[no-untyped-def]
    translate_the_reminder(world)
    await world.link("usr_ada", "usr_bola", inbound_at=now() - timedelta(hours=2))
    assert await world.runtime.linking.remember_language(PHONES["usr_ada"], "pcm")
    for seeker in ("usr_ada", "usr_bola"):
        inspection = await book(world, starts_in=timedelta(hours=5), seeker=seeker)
        await world.scheduler.schedule_reminder(inspection.id, inspection.starts_at)
    await world.run_jobs()
    sent = {message.to: message for message in graph.messages}
    ada, bola = sent[PHONES["usr_ada"]], sent[PHONES["usr_bola"]]
    assert ada.text.startswith("PCM reminder INS-")
    assert [b["reply"]["title"] for b in ada.json["interactive"]["action"]["buttons"]] == ["PCM 0", "PCM 1", "PCM 2"]
    assert shows(shipped_spec().notifications["inspection_reminder"].text, bola.text)  # never picked: English


async def test_the_conversations_language_wins_over_the_accounts(world, graph):  # type: ignore[no-untyped-def]
    translate_the_reminder(world)
    await world.link("usr_ada", inbound_at=now() - timedelta(hours=2))
    await world.runtime.linking.remember_language(PHONES["usr_ada"], "en")
    await world.runtime.engine.preset_language(PHONES["usr_ada"], "pcm")  # picked on WhatsApp since
    assert await world.jobs.language_of(PHONES["usr_ada"]) == "pcm"
    inspection = await book(world, starts_in=timedelta(hours=5))
    await world.scheduler.schedule_reminder(inspection.id, inspection.starts_at)
    await world.run_jobs()
    [sent] = graph.messages
    assert sent.text.startswith("PCM reminder")
