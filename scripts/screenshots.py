"""Write SVG screenshots of the TUI into ``screenshots/`` for the README.

Drives the real app headless with key presses, on a copy of a profile (the
copy is edited, never the original): the main screen, search, symbol info, the
diff view, a locked option, trim to budget, the arch picker, the main screen
at 80x24, the question a save asks when the file changed on disk, the offer
to restore changes a closed terminal left behind, the offer to make the size
table a CPU lacks (riscv64; it names the table it would transfer from, so it
shows this machine's tables), and the build screen after a real build
(``--no-build`` skips it).

    python scripts/screenshots.py [--profile configs/router.toml] [--out screenshots]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from busyconf.model.recovery import write_recovery  # noqa: E402
from busyconf.tui import make_app  # noqa: E402
from busyconf.tui.headless import settle  # noqa: E402
from busyconf.tui.screens.build import BuildScreen  # noqa: E402

SIZE = (120, 40)
NARROW = (80, 24)
FALLBACK = """\
[profile]
description = "Home router, trimmed"
busybox = "1.38.0"
arch = "x86_64"
base = "defconfig"

[config]
FEATURE_LS_COLOR = false

[build]
toolchain = "zig"
"""


async def shoot(profile: Path, out: Path, build: bool, work: Path) -> list[Path]:
    written: list[Path] = []

    def save(app, name: str) -> None:  # type: ignore[no-untyped-def]
        path = out / f"{name}.svg"
        app.save_screenshot(str(path))
        written.append(path)

    recovery = work / "recovery"
    app = make_app(profile, out_dir=work / "out", recovery_root=recovery)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", "l", "s")
        await pilot.pause(0.2)
        save(app, "search")
        await pilot.press("enter")
        await settle(pilot)
        save(app, "main")
        await pilot.press("question_mark")
        await pilot.pause(0.2)
        save(app, "symbol-info")
        await pilot.press("escape", "slash", *"VI", "enter", "n", "slash", *"FEATURE_VI_REGEX", "enter")
        await settle(pilot)
        save(app, "reason")
        await pilot.press("u", "slash", "l", "s", "enter", "space", "d")
        await pilot.pause(0.3)
        save(app, "diff")
        await pilot.press("escape", "u")
        await settle(pilot)
        await pilot.press("t", *"1200K", "enter")
        await pilot.pause(0.3)
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)
        save(app, "trim")
        await pilot.press("escape", "x")
        await pilot.pause(0.2)
        save(app, "arch")
        await pilot.press("escape")
        original = profile.read_text()
        profile.write_text(original + "# edited by someone else meanwhile\n")
        await pilot.press("s")
        await pilot.pause(0.2)
        save(app, "changed-on-disk")
        await pilot.press("escape")
        profile.write_text(original)
        if build:
            await pilot.press("b")
            await pilot.pause(0.2)
            screen = app.screen
            assert isinstance(screen, BuildScreen)
            while screen.running:
                await pilot.pause(0.5)
            await pilot.pause(0.3)
            save(app, "build")
    app = make_app(profile, out_dir=work / "out", recovery_root=recovery)
    async with app.run_test(size=NARROW) as pilot:
        await settle(pilot)
        await pilot.press("slash", "l", "s", "enter")
        await settle(pilot)
        save(app, "main-80x24")
    coarse = work / "riscv64.toml"
    coarse.write_text(re.sub(r'(?m)^arch = ".*"$', 'arch = "riscv64"', original))
    app = make_app(coarse, out_dir=work / "out", recovery_root=recovery)
    async with app.run_test(size=NARROW) as pilot:
        await settle(pilot)
        await pilot.press("T")
        await pilot.pause(0.2)
        await app.screen.workers.wait_for_complete()
        await pilot.pause(0.3)
        save(app, "size-table")
    unsaved = original + "FEATURE_LS_COLOR = false\n"
    write_recovery(profile, unsaved, "SIGHUP: the editor could not ask", root=recovery)
    app = make_app(profile, out_dir=work / "out", recovery_root=recovery)
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)
        save(app, "recovery")
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", type=Path, help="profile to show (default configs/router.toml)")
    parser.add_argument("--out", type=Path, default=REPO / "screenshots")
    parser.add_argument("--no-build", action="store_true", help="skip the build screen (no real build)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="busyconf-shots-") as tmp:
        work = Path(tmp)
        source = args.profile or REPO / "configs" / "router.toml"
        profile = work / (source.name if source.is_file() else "router.toml")
        if source.is_file():
            shutil.copy(source, profile)
            for sibling in source.parent.glob("*.toml"):
                if not (work / sibling.name).exists():
                    shutil.copy(sibling, work / sibling.name)
        else:
            profile.write_text(FALLBACK)
        written = asyncio.run(shoot(profile, args.out, not args.no_build, work))
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
