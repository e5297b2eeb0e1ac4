"""Fixtures for the TUI tests: small profiles on the real BusyBox 1.38.0 tree."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tui.tui_fixtures import NO_LS, PROFILE


@pytest.fixture(autouse=True)
def shipped_size_tables_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Sizes from the tables in the package, not from the user's own calibrations.

    Snapshots and size assertions must not change with what someone happened
    to calibrate on this machine.
    """
    from busyconf.size import table

    monkeypatch.setattr(table, "user_table_path", lambda key: tmp_path / "no-user-tables" / key.filename)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


@pytest.fixture
def profile(tmp_path: Path) -> Path:
    """A defconfig-based profile with one override."""
    return write(tmp_path, "test.toml", PROFILE)


@pytest.fixture
def no_ls_profile(tmp_path: Path) -> Path:
    """A profile with the ls applet switched off."""
    return write(tmp_path, "no-ls.toml", NO_LS)
