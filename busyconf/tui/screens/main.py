"""The main screen: menu tree, entries, details, size meter."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from kconfiglib import MENU, Choice, MenuNode, Symbol
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Tree

from busyconf.errors import BusyconfError
from busyconf.tui.menu import Entry, entries, menu_of, node_for, visible
from busyconf.tui.session import ChangedOnDisk, Estimator, Session, load_estimator
from busyconf.tui.widgets import DetailPane, EntryList, MenuTree, ProfileHeader, SizeMeter
from busyconf.tui.widgets.detail_pane import symbol_details
from busyconf.tui.widgets.size_meter import short_size

if TYPE_CHECKING:
    from busyconf.tui.screens.build import BuildFn

#: (title, help, action) for the command palette; the keys are in BINDINGS.
COMMANDS: list[tuple[str, str, str]] = [
    ("Toggle", "Toggle the highlighted option (Space)", "toggle_value"),
    ("Search", "Find an applet, option or menu by name or prompt (/)", "search"),
    ("Symbol info", "Everything about the highlighted option (?)", "info"),
    ("Show all", "Also list options that are currently hidden (a)", "show_all"),
    ("Show names", "Show CONFIG_ names beside prompts (c)", "show_names"),
    ("Undo", "Undo the last change (u)", "undo"),
    ("Redo", "Redo the last undone change (r)", "redo"),
    ("Save", "Save the profile, kept minimal (s)", "save"),
    ("Save as", "Save as a new profile (S)", "save_as"),
    ("Switch arch", "Change the target CPU; sizes update (x)", "arch"),
    ("Diff", "What differs from the base and from the saved file (d)", "diff"),
    ("Build", "Build this profile for its arch (b)", "build"),
    ("Trim to budget", "Switch off what it takes to fit a size budget (t)", "budget"),
    ("Upgrade release", "Move the profile to a newer BusyBox release, with a drift report (U)", "upgrade"),
    ("Parent menu", "Go back to the enclosing menu (Backspace)", "menu_up"),
    ("Quit", "Leave; asks first when there are unsaved changes (q)", "quit"),
]


class MainScreen(Screen[None]):
    """Browse and edit a profile like ``make menuconfig``, with sizes."""

    BINDINGS = [
        Binding("space", "toggle_value", "Toggle"),
        Binding("slash", "search", "Search", key_display="/"),
        Binding("question_mark", "info", "Info", key_display="?"),
        Binding("a", "show_all", "All"),
        Binding("c", "show_names", "Names"),
        Binding("u,ctrl+z", "undo", "Undo"),
        Binding("r,ctrl+y", "redo", "Redo"),
        Binding("s,ctrl+s", "save", "Save"),
        Binding("S", "save_as", "Save as"),
        Binding("x", "arch", "Arch"),
        Binding("d", "diff", "Diff"),
        Binding("b", "build", "Build"),
        Binding("t", "budget", "Budget"),
        Binding("U", "upgrade", "Upgrade", show=False),
        Binding("y", "set('y')", "Yes", show=False),
        Binding("n", "set('n')", "No", show=False),
        Binding("backspace,escape", "menu_up", "Back", show=False),
        Binding("tab", "app.focus_next", "Focus", show=False),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(
        self, session: Session, out_dir: Path | None = None, build_fn: BuildFn | None = None
    ) -> None:
        super().__init__()
        self.session = session
        self.out_dir = out_dir
        self.build_fn = build_fn
        self.menu: MenuNode = session.tree.kconf.top_node
        self.show_all = False

    def compose(self) -> ComposeResult:
        yield ProfileHeader(id="header")
        with Horizontal(id="panes"):
            yield MenuTree(self.session.tree, id="menus")
            with Vertical(id="right"):
                yield EntryList(id="entries")
                yield DetailPane(id="detail")
        yield SizeMeter(id="size")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(EntryList).focus()
        self.refresh_view()
        self.load_estimator()
        self.load_new_names()

    # -- rendering -----------------------------------------------------------
    @property
    def entry_list(self) -> EntryList:
        return self.query_one(EntryList)

    def refresh_view(self, select: MenuNode | None = None) -> None:
        """Redraw everything from the session; keep (or move) the cursor."""
        s = self.session
        prof = s.profile
        self.query_one(ProfileHeader).show(
            prof.path.name if prof.path else prof.name, s.tree.release, s.arch, s.dirty, prof.description
        )
        table = self.entry_list
        old = table.current
        with s.kconfig():
            rows = entries(self.menu, self.show_all)
            self.query_one(MenuTree).dim_hidden()
        target = select or (old.node if old else None)
        cursor = next((i for i, e in enumerate(rows) if e.node is target), table.cursor_row if old else 0)
        table.show(rows, [self._size_cell(e) for e in rows], cursor)
        self.refresh_detail()

    def _size_cell(self, entry: Entry) -> Text:
        name = entry.name
        size = self.session.size()
        if name is None or size.total is None:
            return Text("")
        cost = size.per_symbol.get(name)
        if cost:
            return Text(short_size(cost), justify="right")
        value = self.session.config.values.get(name)
        if value == "n" and entry.changeable and self.session.tree.type_of(name) == "bool":
            delta = self.session.delta(name, "y")
            if delta:
                return Text("+" + short_size(delta), style="dim", justify="right")
        return Text("")

    def refresh_detail(self) -> None:
        entry = self.entry_list.current
        s = self.session
        meter = self.query_one(SizeMeter)
        size = s.size()
        pane = self.query_one(DetailPane)
        if entry is None or entry.name is None:
            meter.show(size.total, size.basis, None)
            pane.show(self._menu_details(entry))
            return
        name = entry.name
        new = s.toggled(name)
        reason = s.reason(name)
        delta = s.delta(name, new) if new is not None and reason is None else None
        meter.show(size.total, size.basis, delta, f"Space {name}={new}" if delta is not None else "")
        with s.tree.lock:
            info = s.tree.info(name)
        new_in = s.tree.release if s.is_new(name) else None
        value = s.config.values[name]
        pane.show(symbol_details(info, value, reason, size.per_symbol.get(name), delta, new_in=new_in))

    def _menu_details(self, entry: Entry | None) -> Text:
        if entry is None:
            return Text("This menu is empty (press a to show hidden options).", style="dim")
        node = entry.node
        text = Text(entry.prompt, style="bold")
        help_text = getattr(node, "help", None)
        if help_text:
            text.append("\n\n" + help_text)
        if entry.is_menu:
            text.append("\n\nEnter opens this menu.", style="dim")
        return text

    # -- events ----------------------------------------------------------------
    @on(DataTable.RowHighlighted, "#entries")
    def _highlighted(self) -> None:
        self.refresh_detail()

    @on(DataTable.RowSelected, "#entries")
    def _selected(self) -> None:
        entry = self.entry_list.current
        if entry is None:
            return
        if entry.is_menu and not (
            isinstance(entry.node.item, Symbol) and entry.changeable and entry.node.list is None
        ):
            self.open_menu(entry.node)
        elif isinstance(entry.node.item, Symbol) and self.session.tree.type_of(entry.name or "") in (
            "int",
            "hex",
            "string",
        ):
            self.edit(entry)
        else:
            self.action_toggle_value()

    @on(Tree.NodeHighlighted, "#menus")
    def _menu_highlighted(self, event: Tree.NodeHighlighted[MenuNode]) -> None:
        node = event.node.data
        if node is not None and node is not self.menu:
            self.menu = node
            self.refresh_view()
            self.entry_list.move_cursor(row=0, animate=False)

    @on(Tree.NodeSelected, "#menus")
    def _menu_selected(self) -> None:
        self.entry_list.focus()

    # -- navigation --------------------------------------------------------------
    def open_menu(self, menu: MenuNode, select: MenuNode | None = None) -> None:
        self.menu = menu
        self.query_one(MenuTree).highlight_menu(menu)
        self.refresh_view(select=select)
        if select is None:
            self.entry_list.move_cursor(row=0, animate=False)

    def action_menu_up(self) -> None:
        top = self.session.tree.kconf.top_node
        if self.menu is top:
            return
        old = self.menu
        self.open_menu(menu_of(old), select=old)

    def jump_to(self, node: MenuNode) -> None:
        """Show ``node`` in its menu, turning show-all on if it is hidden."""
        with self.session.kconfig():
            hidden = not visible(node)
        if hidden and not self.show_all:
            self.show_all = True
            self.notify("Show-all is on: the option you jumped to is hidden.", timeout=3)
        self.open_menu(menu_of(node), select=node)
        self.entry_list.focus()

    def jump_to_symbol(self, name: str) -> None:
        self.jump_to(node_for(self.session.tree, name))

    # -- editing -----------------------------------------------------------------
    def action_toggle_value(self) -> None:
        entry = self.entry_list.current
        if entry is None:
            return
        item = entry.node.item
        if isinstance(item, Choice) or item == MENU:
            self.open_menu(entry.node)
            return
        if not isinstance(item, Symbol) or entry.name is None:
            return
        if self.session.tree.type_of(entry.name) in ("int", "hex", "string"):
            self.edit(entry)
            return
        with self.session.kconfig():
            pick = item.choice is not None and item.visibility == 2
        self.change(entry.name, "y" if pick else self.session.toggled(entry.name) or "y")

    def action_set(self, value: str) -> None:
        entry = self.entry_list.current
        if entry is not None and entry.name and self.session.tree.type_of(entry.name) == "bool":
            self.change(entry.name, value)

    def change(self, name: str, value: str) -> None:
        try:
            reason = self.session.set_value(name, value)
        except BusyconfError as e:
            self.notify(str(e), title=e.title, severity="error", markup=False)
            return
        if reason:
            self.notify(reason, title=f"Cannot set {name}={value}", severity="warning", markup=False)
        self.refresh_view()

    def edit(self, entry: Entry) -> None:
        from busyconf.tui.screens.edit import EditValueModal

        name = entry.name or ""

        def done(value: str | None) -> None:
            if value is not None:
                self.change(name, value)

        self.app.push_screen(EditValueModal(self.session, name), done)

    def action_undo(self) -> None:
        if self.session.undo():
            self.refresh_view()
        elif self.session.before_upgrade is not None:
            before = self.session.before_upgrade
            self.app.use_session(before)  # type: ignore[attr-defined]
            self.app.notify(
                f"Upgrade undone: back on BusyBox {before.tree.release} (r cannot redo it; U can).", timeout=4
            )
        else:
            self.notify("Nothing to undo.", timeout=2)

    def action_redo(self) -> None:
        if self.session.redo():
            self.refresh_view()
        else:
            self.notify("Nothing to redo.", timeout=2)

    def action_show_all(self) -> None:
        self.show_all = not self.show_all
        self.notify(f"Show-all {'on' if self.show_all else 'off'}", timeout=2)
        self.refresh_view()

    def action_show_names(self) -> None:
        self.entry_list.show_names = not self.entry_list.show_names
        self.refresh_view()

    # -- files -------------------------------------------------------------------
    def action_save(self) -> None:
        self.save()

    def save(
        self, path: Path | None = None, then: Callable[[], None] | None = None, force: bool = False
    ) -> None:
        """Save (to ``path``), asking first when the file changed on disk; ``then`` runs once saved."""
        try:
            saved = self.session.save(path, force=force)
        except ChangedOnDisk:
            self._changed_on_disk(path, then)
            return
        except BusyconfError as e:
            self.notify(str(e), title=e.title, severity="error", markup=False)
            return
        self.app.saved()  # type: ignore[attr-defined]
        self.notify(f"Saved {saved}", timeout=3, markup=False)
        self.refresh_view()
        if then is not None:
            then()

    def _changed_on_disk(self, path: Path | None, then: Callable[[], None] | None) -> None:
        from busyconf.tui.screens.dialogs import ChangedOnDiskModal

        def done(choice: str | None) -> None:
            if choice == "overwrite":
                self.save(path, then, force=True)
            elif choice == "merge":
                try:
                    self.session.rebase()
                except BusyconfError as e:
                    self.notify(str(e), title="Cannot merge", severity="error", markup=False)
                    return
                self.save(path, then)
            elif choice == "reload":
                self.app.open_profile(offer_recovery=False)  # type: ignore[attr-defined]

        self.app.push_screen(ChangedOnDiskModal(self.session.profile.path or Path("profile")), done)

    def action_save_as(self) -> None:
        from busyconf.tui.screens.dialogs import SaveAsModal

        def done(path: Path | None) -> None:
            if path is not None:
                self.save(path)

        self.app.push_screen(SaveAsModal(self.session.profile.path), done)

    def action_quit(self) -> None:
        self.app.request_quit()  # type: ignore[attr-defined]

    # -- other screens -------------------------------------------------------------
    def action_search(self) -> None:
        from busyconf.tui.screens.search import SearchScreen

        def done(node: MenuNode | None) -> None:
            if node is not None:
                self.jump_to(node)

        self.app.push_screen(SearchScreen(self.session), done)

    def action_info(self) -> None:
        from busyconf.tui.screens.info import SymbolInfoScreen

        entry = self.entry_list.current
        if entry is None or entry.name is None:
            self.notify("Highlight an option to see its info.", timeout=2)
            return
        self.app.push_screen(SymbolInfoScreen(self.session, entry.node))

    def action_arch(self) -> None:
        from busyconf.tui.screens.dialogs import ArchPickerModal

        def done(arch: str | None) -> None:
            if arch and arch != self.session.arch:
                self.session.set_arch(arch)
                self.refresh_view()
                self.load_estimator()

        self.app.push_screen(ArchPickerModal(self.session.arch), done)

    def action_diff(self) -> None:
        from busyconf.tui.screens.diff import DiffScreen

        self.app.push_screen(DiffScreen(self.session))

    def action_budget(self) -> None:
        from busyconf.tui.screens.budget import BudgetModal

        def done(symbols: list[str] | None) -> None:
            for name in symbols or []:
                self.change(name, "n")

        self.app.push_screen(BudgetModal(self.session), done)

    def action_upgrade(self) -> None:
        from busyconf.tui.screens.upgrade import ReleasePickerModal

        here = self.session.tree.release
        newer = self.session.newer_releases()
        if not newer:
            self.notify(
                f"No release newer than {here} is in the cache (busyconf source fetch VERSION gets one).",
                title="Nothing to upgrade to",
                timeout=5,
                markup=False,
            )
        elif len(newer) == 1:
            self.show_upgrade(newer[0])
        else:

            def done(release: str | None) -> None:
                if release is not None:
                    self.show_upgrade(release)

            self.app.push_screen(ReleasePickerModal(here, newer), done)

    def show_upgrade(self, release: str) -> None:
        """The drift report to ``release``; applying it moves the editor to an upgraded session."""
        from busyconf.tui.screens.upgrade import UpgradeScreen

        def done(upgraded: Session | None) -> None:
            if upgraded is not None:
                self.app.use_session(upgraded)  # type: ignore[attr-defined]
                self.app.notify(
                    f"Upgraded to BusyBox {release}: unsaved until you press s (u goes back).", timeout=5
                )

        self.app.push_screen(UpgradeScreen(self.session, release), done)

    def action_build(self) -> None:
        from busyconf.tui.screens.build import BuildScreen

        self.app.push_screen(BuildScreen(self.session, self.out_dir, self.build_fn))

    # -- sizes -----------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="size", exit_on_error=False)
    def load_estimator(self) -> None:
        """Load the size estimator off the UI thread; the meter says n/a until then."""
        arch = self.session.arch
        estimator = load_estimator(self.session.tree.release, arch)
        if estimator is not None:
            estimator.estimate(self.session.config)
        self.app.call_from_thread(self._estimator_ready, arch, estimator)

    @work(thread=True, exclusive=True, group="new-names", exit_on_error=False)
    def load_new_names(self) -> None:
        """Find what this release added (parses the previous release's tree) off the UI thread."""
        names = self.session.load_new_names()
        self.app.call_from_thread(self._new_names_ready, names)

    def _new_names_ready(self, names: frozenset[str]) -> None:
        if names:
            self.entry_list.new_names = names
            self.refresh_view()

    def _estimator_ready(self, arch: str, estimator: Estimator | None) -> None:
        if arch != self.session.arch:
            return
        self.session.use_estimator(arch, estimator)
        self.refresh_view()
