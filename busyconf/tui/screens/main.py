"""The main screen: menu tree, entries, details, size meter."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from kconfiglib import MENU, Choice, MenuNode, Symbol
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Tree

from busyconf.errors import BusyconfError
from busyconf.model.menu import Entry, entries, menu_of, node_for, visible
from busyconf.tui.row_sizes import RowSizes, key_value
from busyconf.tui.screens.exact_pass import ExactPass
from busyconf.tui.session import ChangedOnDisk, Session
from busyconf.tui.sizing import Estimator, load_estimator
from busyconf.tui.widgets import DetailPane, EntryList, MenuTree, ProfileHeader, SizeMeter
from busyconf.tui.widgets.detail_pane import menu_details, symbol_details
from busyconf.tui.widgets.key_bar import KeyBar

if TYPE_CHECKING:
    from busyconf.tui.screens.build import BuildFn

#: Seconds the loads started at mount wait for the first paint at most.
PAINT_WAIT = 2.0

#: (title, help, action) for the command palette; the keys are in BINDINGS.
COMMANDS: list[tuple[str, str, str]] = [
    ("Toggle", "Toggle the highlighted option (Space)", "toggle_value"),
    ("Switch on with what it needs", "Switch on a locked option and the options it needs (+)", "with_needs"),
    ("Menu tree", "Show or hide the menu tree on the left (m)", "toggle_tree"),
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

    # The footer shows what a narrow terminal has room for; the palette (^p) lists the rest.
    BINDINGS = [
        Binding("space", "toggle_value", "Toggle", key_display="spc"),
        Binding("slash", "search", "Find", key_display="/"),
        Binding("question_mark", "info", "Info", key_display="?", show=False),
        Binding("plus", "with_needs", "With deps", key_display="+", show=False),
        Binding("a", "show_all", "All", show=False),
        Binding("c", "show_names", "Names", show=False),
        Binding("m", "toggle_tree", "Menus", show=False),
        Binding("u,ctrl+z", "undo", "Undo"),
        Binding("r,ctrl+y", "redo", "Redo", show=False),
        Binding("s,ctrl+s", "save", "Save"),
        Binding("S", "save_as", "Save as", show=False),
        Binding("x", "arch", "Arch"),
        Binding("d", "diff", "Diff"),
        Binding("b", "build", "Build"),
        Binding("t", "budget", "Trim"),
        Binding("U", "upgrade", "Upgrade", show=False),
        Binding("T", "size_table", "Size table", show=False),
        Binding("y", "set('y')", "Yes", show=False),
        Binding("n", "set('n')", "No", show=False),
        Binding("backspace,escape", "menu_up", "Back", show=False),
        Binding("tab,shift+tab", "switch_focus", "Tree/list", show=False),
        Binding("q", "quit", "Quit"),
    ]

    #: Below 100 columns the menu tree hides (m brings it back) so option rows keep their sizes.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]

    def __init__(
        self, session: Session, out_dir: Path | None = None, build_fn: BuildFn | None = None
    ) -> None:
        super().__init__()
        self.session = session
        self.out_dir = out_dir
        self.build_fn = build_fn
        self.menu: MenuNode = session.tree.kconf.top_node
        self.show_all = False
        self._painted = threading.Event()
        self.sizes = RowSizes(session)
        self.exact = ExactPass(self, self)

    def compose(self) -> ComposeResult:
        yield ProfileHeader(id="header")
        with Horizontal(id="panes"):
            yield MenuTree(self.session.tree, id="menus")
            with Vertical(id="right"):
                yield EntryList(id="entries")
                yield DetailPane(id="detail")
        yield SizeMeter(id="size")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one(EntryList).focus()
        self.refresh_view()
        # The menu is on screen first: sizes and the release comparison start loading now (so
        # anyone waiting for the workers waits for them) but do their work after the first paint.
        self.load_estimator()
        self.load_new_names()
        self.call_after_refresh(self._after_first_paint)

    def _after_first_paint(self) -> None:
        from busyconf.tui.gc_pause import resume_gc

        resume_gc()
        self._painted.set()

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
            keys = [key_value(e) for e in rows]
        target = select or (old.node if old else None)
        cursor = next((i for i, e in enumerate(rows) if e.node is target), table.cursor_row if old else 0)
        table.show(rows, self.sizes.cells_for(rows, keys, self.window(cursor, len(rows))), cursor)
        self.refresh_detail()
        self.exact.schedule()

    def window(self, cursor: int, count: int) -> range:
        """The rows that can be on screen once the cursor is at ``cursor``."""
        height = max(1, self.entry_list.size.height)
        top = int(self.entry_list.scroll_offset.y)
        if not top <= cursor < top + height:
            top = max(0, cursor - height + 1)
        return range(max(0, top - 1), min(count, top + height + 1))

    def refresh_detail(self) -> None:
        entry = self.entry_list.current
        s = self.session
        meter = self.query_one(SizeMeter)
        total = s.total()
        pane = self.query_one(DetailPane)
        if entry is None or entry.name is None:
            meter.show(total, s.basis, None)
            pane.show(menu_details(entry))
            return
        name = entry.name
        reason = s.reason(name)
        new = self.sizes.key_at(self.entry_list.cursor_row) if reason is None else None
        preview = s.preview(name, new) if new is not None and s.size_ready else None
        delta = preview.delta if preview is not None else None
        label = f"Space {name}={new}" if delta is not None else ""
        needs: list[str] = []
        if reason is not None and s.config.values.get(name) != "y" and s.tree.type_of(name) == "bool":
            needs = s.needs(name)
            if needs:
                with_needs = s.preview_values([(d, "y") for d in needs] + [(name, "y")])
                delta = with_needs.delta
                label = f"+ {name} and {len(needs)} more" if delta is not None else ""
        meter.show(total, s.basis, delta, label)
        info = s.info(name)
        new_in = s.tree.release if s.is_new(name) else None
        value = s.config.values[name]
        if needs:
            reason = f"{reason}; + switches on {' and '.join(needs)} too"
        cost = -preview.delta if preview is not None and preview.delta is not None and new == "n" else None
        shown = delta if preview is not None and new != "n" else None
        pane.show(symbol_details(info, value, reason, cost, shown, new_in=new_in))
        if preview is not None and preview.delta is not None:
            self.exact.show(s.generation, [(self.entry_list.cursor_row, entry.node, preview)])

    # -- events ----------------------------------------------------------------
    @on(EntryList.Highlighted, "#entries")
    def _highlighted(self, event: EntryList.Highlighted) -> None:
        if type(event) is EntryList.Highlighted:
            self.refresh_detail()

    @on(EntryList.ValueClicked, "#entries")
    def _value_clicked(self) -> None:
        self.action_toggle_value()

    @on(EntryList.Selected, "#entries")
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
        self._fit_tree()

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
            needs = self.session.needs(name) if value != "n" else []
            if needs:
                reason += f" (+ switches on {' and '.join(needs)} too)"
            self.notify(reason, title=f"Cannot set {name}={value}", severity="warning", markup=False)
        self.refresh_view()

    def action_with_needs(self) -> None:
        """Switch on the highlighted option and what it needs, as one undo step."""
        entry = self.entry_list.current
        if entry is None or entry.name is None or self.session.tree.type_of(entry.name) != "bool":
            return
        name = entry.name
        needs = self.session.needs(name)
        if not needs:
            self.change(name, "y")
            return
        reason = self.session.set_with_needs(name)
        if reason:
            self.notify(reason, title=f"Cannot switch on {name}", severity="warning", markup=False)
            return
        self.notify(f"Switched on {', '.join(needs)} and {name} (u undoes all).", timeout=3, markup=False)
        self.refresh_view()

    def action_switch_focus(self) -> None:
        """Tab: between the menu tree and the list; on a narrow screen the tree shows while it has focus."""
        tree = self.query_one(MenuTree)
        if tree.has_focus:
            self.entry_list.focus()
            self._fit_tree()
            return
        tree.display = True
        tree.focus()

    def action_toggle_tree(self) -> None:
        self.query_one(MenuTree).toggle()

    def _fit_tree(self) -> None:
        self.query_one(MenuTree).fit(narrow=self.has_class("-narrow"))

    def edit(self, entry: Entry) -> None:
        from busyconf.tui.screens.edit import EditValueModal

        name = entry.name or ""

        def done(value: str | None) -> None:
            if value is not None:
                self.change(name, value)

        self.app.push_screen(EditValueModal(self.session, name), done)

    def action_undo(self) -> None:
        if self.session.undo():
            self._show_state()
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
            self._show_state()
        else:
            self.notify("Nothing to redo.", timeout=2)

    def _show_state(self) -> None:
        """Redraw after the values or the arch moved (an arch seen before keeps its sizes)."""
        self.refresh_view()
        if self.session.arch not in self.session.estimators:
            self.load_estimator()

    def action_show_all(self) -> None:
        self.show_all = not self.show_all
        self.notify(f"Show-all {'on' if self.show_all else 'off'}", timeout=2)
        self.refresh_view()

    def action_show_names(self) -> None:
        self.entry_list.show_names = not self.entry_list.show_names
        self.entry_list.refresh_labels()

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
                self._show_state()

        self.app.push_screen(ArchPickerModal(self.session.arch, release=self.session.tree.release), done)

    def action_diff(self) -> None:
        from busyconf.tui.screens.diff import DiffScreen

        self.app.push_screen(DiffScreen(self.session))

    def action_budget(self) -> None:
        from busyconf.tui.screens.budget import BudgetModal

        def done(symbols: list[str] | None) -> None:
            if not symbols:
                return
            reason = self.session.set_values([(name, "n") for name in symbols])
            if reason:
                self.notify(reason, title="Cannot apply the trim", severity="warning", markup=False)
                return
            self.notify(f"Switched off {len(symbols)} options (u undoes the trim).", timeout=3)
            self.refresh_view()

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
        from busyconf.model.prepare import BrokenOptionsError
        from busyconf.tui.screens.dialogs import DropBrokenModal

        try:
            self._open_build(drop_broken=False)
        except BrokenOptionsError as refused:

            def answered(drop: bool | None) -> None:
                if drop:
                    self._open_build(drop_broken=True)

            s = self.session
            lines = [f"{p.symbol}={p.safe}: {p.reason}" for p in refused.problems]
            self.app.push_screen(DropBrokenModal(f"{s.arch} with {s.profile.toolchain}", lines), answered)

    def _open_build(self, drop_broken: bool) -> None:
        """The build screen on the session as prepare_build makes it (it raises BrokenOptionsError)."""
        from busyconf.model.prepare import BrokenOptionsError
        from busyconf.tui.screens.build import BuildScreen, prepare_session

        try:
            prepared = prepare_session(self.session, drop_broken=drop_broken)
        except BrokenOptionsError:
            raise
        except BusyconfError as e:
            self.notify(str(e), title=e.title, severity="error")
            return
        self.app.push_screen(BuildScreen(self.session, prepared, self.out_dir, self.build_fn))

    # -- sizes -----------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="size", exit_on_error=False)
    def load_estimator(self) -> None:
        """Load the size estimator off the UI thread; the meter says n/a until then."""
        self._painted.wait(PAINT_WAIT)
        arch = self.session.arch
        estimator = load_estimator(self.session.tree.release, arch)
        if estimator is not None:
            estimator.estimate(self.session.config)
        self.app.call_from_thread(self._estimator_ready, arch, estimator)

    @work(thread=True, exclusive=True, group="new-names", exit_on_error=False)
    def load_new_names(self) -> None:
        """Find what this release added (parses the previous release's tree) off the UI thread."""
        self._painted.wait(PAINT_WAIT)
        names = self.session.load_new_names()
        self.app.call_from_thread(self._new_names_ready, names)

    def _new_names_ready(self, names: frozenset[str]) -> None:
        if names:
            self.entry_list.new_names = names
            self.entry_list.refresh_labels()
            self.refresh_detail()

    def on_resize(self) -> None:
        self._fit_tree()

    @property
    def row_keys(self) -> list[str | None]:
        """The value Space gives each listed row's symbol (None: not a toggle)."""
        return self.sizes.keys

    @property
    def sizes_settled(self) -> bool:
        """Whether every row of the menu shows its exact size (for tests and screenshots)."""
        return self.sizes.settled

    def _estimator_ready(self, arch: str, estimator: Estimator | None) -> None:
        if arch != self.session.arch:
            return
        self.session.use_estimator(arch, estimator)
        self.refresh_view()
        if estimator is not None and not estimator.calibrated:
            self.notify(f"Sizes on {arch} are coarse: no size table. T makes one.", timeout=6)

    def action_size_table(self) -> None:
        from busyconf.size.table import TableKey
        from busyconf.tui.screens.size_table import SizeTableScreen

        arch = self.session.arch

        def done(made: bool | None) -> None:
            if made:
                self.session.estimators.pop(arch, None)
                self._show_state()

        key = TableKey(self.session.tree.release, arch, self.session.profile.toolchain)
        self.app.push_screen(SizeTableScreen(key), done)
