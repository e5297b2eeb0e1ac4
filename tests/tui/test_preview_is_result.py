"""The number the editor shows before a key is the number after it.

A walk over the starter profiles toggles many options, one key at a time,
through ``Session.set_value`` (what Space, y and n call), and compares the
previewed total with the total after the key: equal, every time. A second
walk presses Space in the editor itself and reads the meter before and after.
"""

from __future__ import annotations

import random
import re
import shutil
from pathlib import Path

import kconfiglib
import pytest
from textual.widgets import Static

from busyconf.model.menu import changeable
from busyconf.tui import make_app
from busyconf.tui.session import Session
from busyconf.tui.sizing import load_estimator
from busyconf.tui.widgets import EntryList, SizeMeter
from tests.tui.test_app import main_screen, ready, search_and_jump, text_of

REPO = Path(__file__).resolve().parents[2]
STARTERS = sorted((REPO / "configs").glob("*.toml"))
#: Toggles per starter: enough to cross applets, features, choices and dependants.
STEPS = 150


def toggles(session: Session) -> list[tuple[str, str]]:
    """Every bool option a user can toggle now, with the value Space gives it."""
    out = []
    with session.kconfig() as kconf:
        for node in kconf.node_iter():
            sym = node.item
            if not isinstance(sym, kconfiglib.Symbol) or sym.orig_type != kconfiglib.BOOL:
                continue
            if not node.prompt or not changeable(node):
                continue
            if sym.choice is not None:
                if sym.choice.selection is not sym:
                    out.append((sym.name, "y"))
                continue
            out.append((sym.name, "n" if sym.tri_value == 2 else "y"))
    return sorted(set(out))


@pytest.mark.slow
@pytest.mark.parametrize("starter", STARTERS, ids=lambda p: p.stem)
def test_every_previewed_total_is_the_total_after_the_key(starter: Path, tmp_path: Path) -> None:
    path = tmp_path / starter.name
    shutil.copy(starter, path)
    session = Session.open(path)
    session.use_estimator(session.arch, load_estimator(session.tree.release, session.arch))
    assert session.size_ready
    rng = random.Random(f"preview-{starter.stem}")
    checked = refused = 0
    for step in range(STEPS):
        name, value = rng.choice(toggles(session))
        before = session.total()
        preview = session.preview(name, value)
        reason = session.set_value(name, value)
        if not preview.taken:
            assert reason is not None, f"step {step}: preview said {name}={value} would not take, but it did"
            assert session.total() == before
            refused += 1
            continue
        assert reason is None, f"step {step}: {name}={value}: {reason}"
        assert preview.total == session.total(), f"step {step}: {name}={value}"
        assert preview.delta == session.total() - before  # type: ignore[operator]
        if step % 10 == 0:
            # The full estimate (with its breakdown) agrees with the fast total.
            assert session.size().total == preview.total
        checked += 1
        # Undo now and then, so the walk also previews from states reached by undo.
        if rng.random() < 0.2:
            again = session.total()
            session.undo()
            assert session.total() == before, f"step {step}: undo of {name}={value}"
            session.redo()
            assert session.total() == again
    assert checked >= STEPS * 0.9, (checked, refused)


@pytest.mark.slow
async def test_pressing_space_gives_the_total_the_meter_promised(tmp_path: Path) -> None:
    """container-shell: / ls Enter, n, then y: the meter's '→ N B' before each key is the total after it."""
    path = tmp_path / "container-shell.toml"
    shutil.copy(REPO / "configs" / "container-shell.toml", path)
    app = make_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(app, pilot)
        await search_and_jump(pilot, "ls")
        entries = screen.query_one(EntryList)
        promised_seen = 0
        for key in ["space", "space", "down", "space", "space", "down", "down", "space", "space"]:
            meter = text_of(screen.query_one(SizeMeter))
            promised = re.search(r"→ ([\d,]+) B", meter)
            await pilot.press(key)
            await pilot.pause()
            if key != "space" or promised is None:
                continue
            after = text_of(main_screen(app).query_one(SizeMeter))
            assert f"{promised.group(1)} B" in after.split("Space")[0], (entries.current, meter, after)
            promised_seen += 1
        assert promised_seen >= 5


@pytest.mark.slow
async def test_the_info_screen_shows_the_figure_the_key_gives(tmp_path: Path) -> None:
    """router: ls off, then ? on it: "toggling" is the exact preview, as in the detail pane."""
    path = tmp_path / "router.toml"
    shutil.copy(REPO / "configs" / "router.toml", path)
    app = make_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(app, pilot)
        await search_and_jump(pilot, "ls")
        await pilot.press("n")
        await pilot.pause()
        s = screen.session
        exact, quick = s.preview("LS", "y").delta, s.delta("LS", "y")
        assert exact is not None and quick is not None and exact != quick
        await pilot.press("question_mark")
        await pilot.pause()
        shown = "\n".join(text_of(w) for w in app.screen.query(Static))
        assert re.search(rf"toggling\s+\+{exact:,} B", shown), shown
        assert f"{quick:,} B" not in shown


def test_re_enabling_ls_after_switching_it_off_previews_what_it_gives(tmp_path: Path) -> None:
    """The issue's case: ls's sub-options stay off when ls comes back, and the preview knows it."""
    path = tmp_path / "container-shell.toml"
    shutil.copy(REPO / "configs" / "container-shell.toml", path)
    session = Session.open(path)
    session.use_estimator(session.arch, load_estimator(session.tree.release, session.arch))
    for name in ("LS", "AWK"):
        before = session.total()
        assert session.set_value(name, "n") is None
        quick = session.delta(name, "y")
        preview = session.preview(name, "y")
        assert session.set_value(name, "y") is None
        assert session.total() == preview.total == before
        # The size model's quick figure prices the sub-options at their defaults: it is the wrong one.
        assert quick is not None and quick != preview.delta
