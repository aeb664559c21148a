"""Notification buttons must lead somewhere: `check` wants a `goto` (or a command's id) it can resolve from any
flow, and ids that tell notifications apart; the engine follows a tapped one even with no saved conversation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flows.loader import check_text
from tests.shipped import SHIPPED_FLOWS, edited, shipped_spec
from tooling.harness import UserSession, build_world

SAMPLE = (Path(__file__).parent / "sample.yaml").read_text(encoding="utf-8")


def with_notification(*choices: dict[str, Any]):  # type: ignore[no-untyped-def]
    def change(data):  # type: ignore[no-untyped-def]
        data["notifications"] = {"news": {"text": "News!", "choices": list(choices), "template": {"name": "news"}},
                                 "other": {"text": "Other", "choices": [{"id": "go", "title": "Go", "goto": "@menu"}],
                                           "template": {"name": "other"}}}
    return change


def errors(*choices: dict[str, Any]) -> list[str]:
    _, report = check_text(edited(with_notification(*choices), SAMPLE))
    return [p.format().split(": ", 1)[1] for p in report.errors]


def test_buttons_need_a_goto_or_a_command_id() -> None:
    assert errors({"id": "menu", "title": "Menu"}) == []  # the `menu` command's id
    assert errors({"id": "x", "title": "X", "goto": "seeker.browse"}, {"id": "y", "title": "Y", "goto": "@count"}) == []
    assert errors({"id": "x", "title": "X"}) == [
        "notifications.news.choices[0].goto: button `x` leads nowhere: give it `goto:` (e.g. `@menu` or "
        "`seeker.browse`), or the id of a command"]


def test_targets_name_their_flow_and_exist() -> None:
    [plain] = errors({"id": "x", "title": "X", "goto": "browse"})
    assert "name the flow (`flow.browse`) or use `@browse`" in plain
    [typo] = errors({"id": "x", "title": "X", "goto": "seeker.brwose"})
    assert "flow `seeker` has no state `brwose`" in typo and "did you mean `browse`?" in typo
    [relative] = errors({"id": "x", "title": "X", "goto": "@nowhere"})
    assert "`@nowhere` names no state of any flow" in relative
    [same] = errors({"id": "go", "title": "Go", "goto": "seeker.browse"})
    assert "id `go` is also a button of notification `news` leading elsewhere" in same


async def test_a_tap_with_no_saved_conversation_follows_the_button(tmp_path: Path) -> None:
    """The conversation expired (or was never saved): the tap still leads where the button says."""
    spec = shipped_spec()
    world = build_world(SHIPPED_FLOWS, tmp_path)
    try:
        for name, notification in spec.notifications.items():
            for choice in notification.choices:
                if not choice.goto or choice.goto.startswith("@"):
                    continue
                flow = choice.goto.partition(".")[0]
                user = UserSession(world, f"+23470{abs(hash((name, choice.id))) % 10**8:08d}")
                await user.start(spec.flows[flow].role)
                await world.runtime.engine.store.redis.delete(world.runtime.engine.store.key(user.phone))
                await user.notify({"name": name})
                turn = await user.send(user.tap(choice.id, "button"))
                assert (turn.flow, turn.state) != ("", ""), (name, choice.id)
                assert spec.messages["stale_choice"] not in "\n".join(m.text for m in turn.messages)
                landed = f"{turn.flow}.{turn.state}"
                moved_on = [c.name for c in turn.calls if c.name != spec.session.identify]
                assert landed == choice.goto or moved_on, (name, choice.id, landed)
    finally:
        await world.aclose()
