"""Hot reload: valid edits swap in atomically, invalid ones are refused, no message is lost meanwhile."""

from __future__ import annotations

import asyncio
import os
import re
import signal
from pathlib import Path

from app.chat import link_demo_user
from app.reload import FlowsReloader
from app.runtime import action_signatures
from engine.events import InboundEvent
from tests.shipped import edited, states_of
from tooling.harness import build_world

MARK = re.compile(r"^v(\d+)\|")


def version(n: int, goto: str | None = None) -> str:
    """The shipped flows with the seeker's menu text marked `v<n>|`, so a reply tells which version sent it."""

    def mark(data):
        say = states_of(data, "seeker")["menu"]["say"]
        say["text"] = f"v{n}|{say['text']}"
        if goto:
            say["choices"][0]["goto"] = goto

    return edited(mark)


async def setup(tmp_path: Path):  # type: ignore[no-untyped-def]
    path = tmp_path / "flows.yaml"
    path.write_text(version(0), encoding="utf-8")
    world = build_world(path, tmp_path)
    engine = world.runtime.engine
    reloader = FlowsReloader(path, action_signatures(world.actions.registry), engine, interval=0.05)
    return path, world, engine, reloader


async def test_invalid_edit_is_refused_with_its_problems_and_old_flows_keep_serving(tmp_path: Path) -> None:
    path, world, engine, reloader = await setup(tmp_path)
    try:
        before = engine.flows
        path.write_text(version(1, goto="nowhere"), encoding="utf-8")
        ok, problems = reloader.reload()
        assert not ok and engine.flows is before
        assert any(f"{path}:" in p and "nowhere" in p for p in problems)
        path.write_text(version(2), encoding="utf-8")
        ok, problems = reloader.reload()
        assert ok and engine.flows is not before and reloader.reloads == 1
        assert reloader.reload() == (True, [])  # unchanged: nothing to do
    finally:
        await world.aclose()


async def test_watch_and_sighup_pick_up_changes(tmp_path: Path) -> None:
    path, world, engine, reloader = await setup(tmp_path)
    reloader.start()
    try:
        first = engine.flows.hash
        path.write_text(version(1), encoding="utf-8")
        for _ in range(100):
            await asyncio.sleep(0.02)
            if engine.flows.hash != first:
                break
        assert engine.flows.hash != first
        second = engine.flows.hash
        path.write_text(version(2), encoding="utf-8")
        reloader._seen = reloader._fingerprint()  # hide it from the poller: only SIGHUP may load it
        os.kill(os.getpid(), signal.SIGHUP)
        await asyncio.sleep(0.05)
        assert engine.flows.hash not in (first, second)
    finally:
        await reloader.stop()
        asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
        await world.aclose()


async def test_a_translation_edit_is_picked_up_and_a_broken_one_refused(tmp_path: Path) -> None:
    path, world, engine, reloader = await setup(tmp_path)
    try:
        english = engine.flows.spec.flows["seeker"].states["menu"].say.text
        (tmp_path / "translations").mkdir()
        pidgin = tmp_path / "translations" / "pcm.yaml"
        pidgin.write_text(f"code: pcm\nname: Pidgin\ntexts:\n  - {{en: {english!r}, pcm: 'v0 Pidgin'}}\n",
                          encoding="utf-8")
        assert reloader.changed()
        assert reloader.reload() == (True, [])
        assert engine.flows.in_language("pcm").spec.flows["seeker"].states["menu"].say.text == "v0 Pidgin"
        before = engine.flows
        pidgin.write_text(pidgin.read_text(encoding="utf-8").replace("v0 Pidgin", "{{ oops"), encoding="utf-8")
        ok, problems = reloader.reload()
        assert not ok and engine.flows is before and any(str(pidgin) in p for p in problems)
    finally:
        await world.aclose()


async def test_messages_stream_through_several_reloads(tmp_path: Path) -> None:
    path, world, engine, reloader = await setup(tmp_path)
    users = [f"+23470000000{i:02d}" for i in range(8)]
    try:
        for phone in users:
            await link_demo_user(world.runtime, phone, "seeker")
        turns: dict[str, list[str]] = {phone: [] for phone in users}

        async def talk(phone: str) -> None:
            for n in range(25):
                turn = await engine.handle(InboundEvent(phone=phone, text="menu", wamid=f"{phone}-{n}"))
                [marked] = [found.group(1) for m in turn.messages if (found := MARK.match(m.text))]
                turns[phone].append(marked)
                await asyncio.sleep(0)

        async def reload_often() -> None:
            for n in range(1, 6):
                await asyncio.sleep(0.01)
                path.write_text(version(n), encoding="utf-8")
                assert reloader.reload()[0]

        await asyncio.gather(reload_often(), *(talk(phone) for phone in users))
        assert reloader.reloads == 5
        assert len({v for seen in turns.values() for v in seen}) > 1  # the reloads happened mid-stream
        for phone, seen in turns.items():
            assert len(seen) == 25  # one reply per message: none lost, none handled twice
            versions = [int(v) for v in seen]
            assert versions == sorted(versions)  # each turn wholly on one version, never going back
            conversation = await engine.store.load(phone)
            assert conversation.version == 26  # start_as + 25 saves
        assert engine.counts["events"] == 8 * 25
    finally:
        await world.aclose()
