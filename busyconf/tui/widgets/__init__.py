"""Widgets of the busyconf TUI, named by role."""

from __future__ import annotations

from busyconf.size.units import format_bytes, format_delta
from busyconf.tui.widgets.detail_pane import DetailPane
from busyconf.tui.widgets.entry_list import EntryList
from busyconf.tui.widgets.menu_tree import MenuTree
from busyconf.tui.widgets.profile_header import ProfileHeader
from busyconf.tui.widgets.size_meter import SizeMeter

__all__ = [
    "DetailPane",
    "EntryList",
    "MenuTree",
    "ProfileHeader",
    "SizeMeter",
    "format_bytes",
    "format_delta",
]
