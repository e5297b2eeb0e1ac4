"""table_kind: which CPUs have measured, transferred or no size tables, from the tables themselves."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import busyconf.size.table as table
from busyconf.size.table import TableKey, save_table, shipped_table_text, table_kind

RELEASE = "1.38.0"
SHIPPED = sorted(
    p.name
    for p in (Path(table.__file__).parent / "tables").iterdir()
    if p.name.endswith(".json.xz") and ".measurements." not in p.name
)


@pytest.fixture
def user_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the user's calibrated table for any key would be (none there yet)."""
    path = tmp_path / "user-table.json"
    monkeypatch.setattr(table, "user_table_path", lambda key: path)
    return path


@pytest.fixture
def no_user_tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(table, "user_table_path", lambda key: tmp_path / "none" / key.filename)


def key(arch: str) -> TableKey:
    return TableKey(RELEASE, arch, "zig")


@pytest.mark.usefixtures("no_user_tables")
def test_shipped_tables_say_what_they_are() -> None:
    assert table_kind(key("x86_64")) == "measured"
    assert table_kind(key("aarch64")) == "measured"
    # armv7's and mipsel's compile-level costs are x86_64's, scaled: their info says so.
    assert table_kind(key("armv7")) == "transferred from x86_64"
    assert table_kind(key("mipsel")) == "transferred from x86_64"
    assert table_kind(TableKey("1.37.0", "riscv64", "zig")) == "coarse"
    assert table_kind(TableKey("1.36.1", "x86_64", "zig")) == "coarse"


@pytest.mark.parametrize("filename", SHIPPED)
def test_the_quick_read_of_info_is_the_info_of_the_whole_table(filename: str) -> None:
    release, arch, toolchain = filename.removesuffix(".json.xz").split("-")
    found = shipped_table_text(TableKey(release, arch, toolchain))
    assert found is not None
    text = found[0]
    assert table._model_info(text) == json.loads(text)["model"]["info"]


def test_the_users_table_wins_and_a_recalibration_renews_the_answer(user_table: Path) -> None:
    model = {"base": 1, "info": {"toggles": "compile-level costs measured on aarch64, scaled x0.9"}}
    save_table(key("armv7"), model, user_table)
    assert table_kind(key("armv7")) == "transferred from aarch64"
    save_table(key("armv7"), {"base": 1, "info": {"method": "exact toggles"}}, user_table)
    assert table_kind(key("armv7")) == "measured"


def test_a_table_in_another_layout_is_read_whole(user_table: Path) -> None:
    doc = {"model": {"sparse": {"info": {}}, "info": {"toggles": "measured on x86_64, scaled"}}}
    user_table.write_text(json.dumps(doc, indent=2))
    assert table_kind(key("mipsel")) == "transferred from x86_64"


def test_a_broken_table_is_unreadable_not_an_error(user_table: Path) -> None:
    user_table.write_text('{"model": {"info": ')
    assert table_kind(key("x86_64")) == "unreadable"
    user_table.write_bytes(b"\xff\xfe")
    os.utime(user_table, ns=(1, 1))
    assert table_kind(key("x86_64")) == "unreadable"
