"""Small modal dialogs: quit with unsaved changes, a file changed on disk, a recovery file,
save as, pick an arch."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option


class ConfirmQuitModal(ModalScreen[str | None]):
    """Asked on quit with unsaved changes: save, discard, or stay."""

    BINDINGS = [
        Binding("escape", "choose('cancel')", "Stay"),
        Binding("s,y", "choose('save')", "Save and quit"),
        Binding("d,n", "choose('discard')", "Discard"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="confirm-quit"):
            yield Label("Unsaved changes", classes="dialog-title")
            yield Static("Save the profile before quitting?")
            with Horizontal(classes="buttons"):
                yield Button("Save and quit", id="save", variant="primary")
                yield Button("Discard", id="discard", variant="error")
                yield Button("Stay", id="cancel")

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id)

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)


class DropBrokenModal(ModalScreen[bool]):
    """Asked before a build whose options are known not to build here (``--drop-broken``)."""

    BINDINGS = [
        Binding("escape,n", "choose(False)", "Cancel"),
        Binding("y", "choose(True)", "Build without them"),
    ]

    def __init__(self, where: str, problems: list[str]) -> None:
        super().__init__()
        self.where = where
        self.problems = problems

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="drop-broken"):
            yield Label("Options that do not build here", classes="dialog-title")
            yield Static(
                f"These do not build for {self.where}:\n"
                + "\n".join(f"  {line}" for line in self.problems)
                + "\n\nBuild with them set to the value that builds? (This build only: "
                "the profile keeps its values; `busyconf build --drop-broken` does the same.)",
                markup=False,
            )
            with Horizontal(classes="buttons"):
                yield Button("Build without them", id="drop", variant="primary")
                yield Button("Cancel", id="cancel")

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "drop")

    def action_choose(self, drop: bool) -> None:
        self.dismiss(drop)


class ChangedOnDiskModal(ModalScreen[str | None]):
    """Asked when a save finds the profile file changed since the editor read it."""

    BINDINGS = [
        Binding("escape", "choose('cancel')", "Cancel"),
        Binding("m", "choose('merge')", "Merge"),
        Binding("o", "choose('overwrite')", "Overwrite"),
        Binding("r", "choose('reload')", "Reload"),
    ]

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="changed-on-disk"):
            yield Label("The profile changed on disk", classes="dialog-title")
            yield Static(
                Text(
                    f"{self.path} is not the file the editor read: something else saved it.\n\n"
                    "Merge: their file with your changes on top (m)\n"
                    "Overwrite: your version replaces theirs (o)\n"
                    "Reload: their file, dropping your changes (r)"
                )
            )
            with Horizontal(classes="buttons"):
                yield Button("Merge", id="merge", variant="primary")
                yield Button("Overwrite", id="overwrite", variant="warning")
                yield Button("Reload", id="reload", variant="error")
                yield Button("Cancel", id="cancel")

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id)

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)


class RecoveryModal(ModalScreen[str | None]):
    """Offered at start when the last editor on this profile left unsaved changes behind."""

    BINDINGS = [
        Binding("escape,k", "choose('keep')", "Keep for later"),
        Binding("r", "choose('restore')", "Restore"),
        Binding("d", "choose('discard')", "Discard"),
    ]

    def __init__(self, file: Path, written: str) -> None:
        super().__init__()
        self.file = file
        self.written = written

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="recovery"):
            yield Label("Unsaved changes were kept", classes="dialog-title")
            yield Static(
                Text(
                    f"The editor on this profile closed with unsaved changes, {self.written}.\n"
                    "Restore makes them this session's unsaved changes; the file is not "
                    "touched until you save.\n\n"
                )
                + Text(str(self.file), style="dim")
            )
            with Horizontal(classes="buttons"):
                yield Button("Restore", id="restore", variant="primary")
                yield Button("Discard", id="discard", variant="error")
                yield Button("Keep for later", id="keep")
            yield Static("r restore · d discard · Esc keep for later", classes="dim")

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id)

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


class SaveAsModal(ModalScreen[Path | None]):
    """Asks for a new profile file name (``.toml`` is added when missing)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, current: Path | None) -> None:
        super().__init__()
        self.current = current
        self._confirmed: Path | None = None

    def compose(self) -> ComposeResult:
        folder = self.current.parent if self.current else Path("configs")
        with Vertical(classes="dialog"):
            yield Label("Save as a new profile", classes="dialog-title")
            yield Static("A path; a bare name goes next to the current profile.", classes="dim")
            yield Input(str(folder / "new-profile.toml"), id="path")
            yield Static("", id="error", classes="error")

    @on(Input.Submitted, "#path")
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            self.query_one("#error", Static).update("Type a file name.")
            return
        path = Path(text)
        if "/" not in text and self.current is not None:
            path = self.current.parent / path
        if path.suffix != ".toml":
            path = path.with_name(path.name + ".toml")
        if path.is_dir():
            self.query_one("#error", Static).update(Text(f"{path} is a folder."))
            return
        other = self.current is None or not _same_file(path, self.current)
        if other and (path.exists() or path.is_symlink()) and path != self._confirmed:
            # Another profile's edits are not ours to drop: replacing it takes a second Enter.
            self._confirmed = path
            self.query_one("#error", Static).update(Text(f"{path} exists: Enter again replaces it."))
            return
        self.dismiss(path)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ArchPickerModal(ModalScreen[str | None]):
    """Picks the target CPU; sizes are re-estimated for it.

    Each CPU says what its sizes at ``release`` rest on: a measured size
    table, one transferred from another CPU, or only the coarse estimate.
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, current: str, *, release: str | None = None, toolchain: str = "zig") -> None:
        super().__init__()
        self.current = current
        self.release = release
        self.toolchain = toolchain

    def kinds(self) -> dict[str, str]:
        """Each known CPU's size-table kind at this release; a coarse one with its measured ± range."""
        from busyconf.model.profile import known_arches
        from busyconf.size.coarse_range import CoarseRangeError, coarse_head, read_ranges
        from busyconf.size.table import TableKey, table_kind
        from busyconf.source.releases import DEFAULT_RELEASE

        release = self.release or DEFAULT_RELEASE
        kinds = {a: table_kind(TableKey(release, a, self.toolchain)) for a in known_arches()}
        try:
            ranges = read_ranges()
        except CoarseRangeError:
            ranges = {}  # the estimate itself reports the unreadable file
        return {a: coarse_head(ranges.get(a)) if k == "coarse" else k for a, k in kinds.items()}

    def compose(self) -> ComposeResult:
        from busyconf.source.releases import DEFAULT_RELEASE

        kinds = self.kinds()
        arches = list(kinds)
        release = self.release or DEFAULT_RELEASE
        with Vertical(classes="dialog") as dialog:
            # In the border: at 80x24 the 13 CPUs and the legend just fit.
            dialog.border_title = f"Target CPU (size tables for BusyBox {release})"
            options = []
            for a in arches:
                label = Text(f"{'● ' if a == self.current else '  '}{a:<13}")
                label.append(f"sizes: {kinds[a]}", style="" if kinds[a] == "measured" else "dim")
                options.append(Option(label, id=a))
            picker = OptionList(*options, id="arches")
            if self.current in arches:
                picker.highlighted = arches.index(self.current)
            yield picker
            yield Static(
                "transferred: scaled from another CPU's · coarse: no size table",
                classes="dim",
                id="arch-legend",
            )

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected, "#arches")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
