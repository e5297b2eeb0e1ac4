"""Per-device profiles: small TOML files holding only what differs from a base.

::

    [profile]
    description = "Home router, MIPS little-endian, 8 MB flash"
    busybox = "1.38.0"
    arch = "mipsel"
    base = "defconfig"     # defconfig | allnoconfig | a profile's name | a .config path
    fragments = ["fragments/syslog.cfg"]   # Kconfig fragments, after the base, before [config]

    [config]               # names without CONFIG_
    FEATURE_LS_COLOR = false

    [build]
    toolchain = "zig"

Files are edited with tomlkit, so the user's comments and key order survive
a save; saves are atomic and minimal.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import tomlkit
import tomlkit.exceptions
from tomlkit.items import Table

from busyconf.build.defaults import DEFAULT_ARCH as DEFAULT_ARCH  # re-exported: the profile's defaults
from busyconf.build.defaults import DEFAULT_TOOLCHAIN as DEFAULT_TOOLCHAIN
from busyconf.errors import ProfileError, SourceError, UserError, read_user_file
from busyconf.model.config import Configuration, configuration, resolve, to_kconfig, to_toml
from busyconf.model.dotconfig import check_ranges, parse_dotconfig
from busyconf.model.fragment_files import (
    fragment_name_for,
    parse_fragment_list,
    profile_fragments,
    set_fragments,
)
from busyconf.model.kconfig import KconfigTree, load_tree
from busyconf.model.toml_table import add_after_last_key, plain_value, separating_blanks
from busyconf.savefile import newline_of, path_lock
from busyconf.savefile import write_atomic as write_atomic  # re-exported: callers save through here
from busyconf.source import DEFAULT_RELEASE, SourceCache, cache_root
from busyconf.source.releases import RELEASES, check_version

BUILTIN_BASES = ("defconfig", "allnoconfig")
_PROFILE_KEYS = {"description", "busybox", "arch", "base", "fragments"}
_BUILD_KEYS = {"toolchain"}
#: Profiles are a few KB; tomlkit parses about 1 MB a second, so larger files are refused unread.
MAX_PROFILE_BYTES = 256 * 1024
#: Bases may name bases; a longer chain is a mistake (and would exhaust the stack).
MAX_BASE_DEPTH = 32
_TOOLCHAIN_RE = re.compile(r"^(zig|musl-gcc|[A-Za-z0-9_.+]+(?:-[A-Za-z0-9_.+]+)*-)$")

Assignments = list[tuple[str, str]]


def known_arches() -> list[str]:
    """CPU names busyconf can build for (from the build layer's data)."""
    from busyconf.build.arch import known_arches as names

    return list(names())


@dataclass
class Profile:
    """A profile file, parsed; ``doc`` keeps its comments for saving."""

    path: Path | None
    doc: tomlkit.TOMLDocument
    description: str = ""
    busybox: str = DEFAULT_RELEASE
    arch: str = DEFAULT_ARCH
    base: str = "defconfig"
    toolchain: str = DEFAULT_TOOLCHAIN
    config: dict[str, object] = field(default_factory=dict)
    #: Kconfig fragment files (relative to the profile's folder), applied after the base in order.
    fragments: tuple[str, ...] = ()
    #: sha256 of the text read from ``path`` (None: not read from a file); a save compares it.
    disk_sha256: str | None = None
    # Line of each [config] key; rendering the document per key was quadratic in its size.
    _lines: dict[str, int] | None = field(default=None, repr=False, compare=False)

    @property
    def name(self) -> str:
        return self.path.stem if self.path else "(new profile)"

    @property
    def where(self) -> str:
        return str(self.path) if self.path else "profile"

    def line_of(self, key: str) -> str:
        """``file:line`` of ``key`` in the [config] table, for error messages."""
        if self.path is None:
            return self.where
        if self._lines is None:
            self._lines = {}
            in_config = False
            for n, line in enumerate(self.doc.as_string().splitlines(), 1):
                s = line.strip()
                if s.startswith("["):
                    in_config = s.replace(" ", "") == "[config]"
                elif in_config and (m := re.match(r'^"?([^"=\s]+)"?\s*=', s)):
                    self._lines.setdefault(m.group(1), n)
        found = self._lines.get(key)
        return f"{self.path}:{found}" if found else str(self.path)


def new_profile(
    busybox: str = DEFAULT_RELEASE,
    arch: str = DEFAULT_ARCH,
    base: str = "defconfig",
    description: str = "",
    toolchain: str = DEFAULT_TOOLCHAIN,
    path: Path | None = None,
) -> Profile:
    doc = tomlkit.document()
    head = tomlkit.table()
    head["description"] = description
    head["busybox"] = busybox
    head["arch"] = arch
    head["base"] = base
    doc["profile"] = head
    doc["config"] = tomlkit.table()
    build = tomlkit.table()
    build["toolchain"] = toolchain
    doc["build"] = build
    return Profile(path, doc, description, busybox, arch, base, toolchain, {})


def load_profile(path: Path | str) -> Profile:
    """Read and check a profile file (not its symbols: see :func:`resolve_profile`)."""
    path = Path(path)
    text = read_user_file(path, "no such profile", ProfileError, MAX_PROFILE_BYTES, "a profile")
    prof = parse_profile(text, path)
    prof.disk_sha256 = _text_sha256(text)
    return prof


def _text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def profile_lock(path: Path | str) -> contextlib.AbstractContextManager[None]:
    """The lock every writer of the profile at ``path`` holds across read-modify-write."""
    return path_lock(path)


@contextlib.contextmanager
def editing(path: Path | str) -> Iterator[Profile]:
    """Load ``path`` under its lock; :func:`save_profile` inside the block cannot lose another's edit."""
    with profile_lock(path):
        yield load_profile(path)


def changed_on_disk(profile: Profile) -> bool:
    """Whether the file is no longer what ``profile`` was read from (deleted counts)."""
    if profile.path is None or profile.disk_sha256 is None:
        return False
    try:
        text = read_user_file(profile.path, "no such profile", ProfileError, MAX_PROFILE_BYTES, "a profile")
    except ProfileError:
        return True
    return _text_sha256(text) != profile.disk_sha256


def parse_profile(text: str, path: Path | None) -> Profile:
    where = str(path) if path else "profile"
    try:
        doc = tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as e:
        raise ProfileError(f"{where}:{e.line}:{e.col}: TOML error: {_toml_reason(e)}") from None
    except tomlkit.exceptions.TOMLKitError as e:
        # A key repeated inside an inline or dotted table is raised without a position.
        raise ProfileError(f"{where}{_line_of_repeat(text, e)}: TOML error: {e}") from None
    for key in doc:
        if key not in ("profile", "config", "build"):
            raise ProfileError(
                f"{where}: unknown table or key {key!r} (expected [profile], [config], [build])"
            )
    head = _table(doc, "profile", where)
    config = _table(doc, "config", where)
    build = _table(doc, "build", where)
    for key in head:
        if key not in _PROFILE_KEYS:
            raise ProfileError(
                f"{where}: unknown key profile.{key} (known: {', '.join(sorted(_PROFILE_KEYS))})"
            )
    for key in build:
        if key not in _BUILD_KEYS:
            raise ProfileError(f"{where}: unknown key build.{key} (known: {', '.join(sorted(_BUILD_KEYS))})")
    prof = Profile(
        path=path,
        doc=doc,
        description=_str(head, "description", "", where),
        busybox=_str(head, "busybox", DEFAULT_RELEASE, where),
        arch=_str(head, "arch", DEFAULT_ARCH, where),
        base=_str(head, "base", "defconfig", where),
        toolchain=_str(build, "toolchain", DEFAULT_TOOLCHAIN, where),
        config={str(k): plain_value(v) for k, v in config.items()},
        fragments=parse_fragment_list(plain_value(head.get("fragments")), where),
    )
    try:
        check_version(prof.busybox)
    except SourceError:
        raise ProfileError(f"{where}: busybox = {prof.busybox!r} is not a BusyBox version") from None
    if not _TOOLCHAIN_RE.match(prof.toolchain):
        raise ProfileError(
            f"{where}: build.toolchain = {prof.toolchain!r}: expected zig, musl-gcc "
            "or a cross prefix such as aarch64-linux-musl-"
        )
    arches = known_arches()
    if prof.arch not in arches:
        raise ProfileError(f"{where}: unknown arch {prof.arch!r} (known: {', '.join(arches)})")
    for key, value in prof.config.items():
        if isinstance(value, (dict, list)) or value is None:
            raise ProfileError(f"{prof.line_of(key)}: {key} must be true, false, a number or a string")
        if key.startswith("CONFIG_"):
            raise ProfileError(f"{prof.line_of(key)}: write {key[7:]} without the CONFIG_ prefix")
    return prof


def _line_of_repeat(text: str, e: Exception) -> str:
    """``:LINE`` of the second definition of the key a KeyAlreadyPresent names, if found."""
    m = re.match(r'Key "(.*)" already exists', str(e))
    if not m:
        return ""
    key = re.compile(rf"(^|[{{,.\s]){re.escape(m.group(1))}\s*=")
    seen = 0
    for n, line in enumerate(text.splitlines(), 1):
        seen += len(key.findall(line.split("#", 1)[0]))
        if seen >= 2:
            return f":{n}"
    return ""


def _toml_reason(e: tomlkit.exceptions.ParseError) -> str:
    msg = str(e)
    return re.sub(r"\s+at line \d+ col \d+$", "", msg)


def _table(doc: tomlkit.TOMLDocument, name: str, where: str) -> Table:
    value = doc.get(name)
    if value is None:
        return tomlkit.table()
    if not isinstance(value, Table):
        raise ProfileError(f"{where}: {name} must be a table ([{name}])")
    return value


def _str(table: Table, key: str, default: str, where: str) -> str:
    value = table.get(key, default)
    if not isinstance(value, str):
        raise ProfileError(f"{where}: {key} must be a string")
    return str(value)


# -- resolution ------------------------------------------------------------------


def tree_for(profile: Profile, cache: SourceCache | None = None) -> KconfigTree:
    """The parsed Kconfig tree of the profile's release."""
    cache = cache or SourceCache()
    if profile.busybox not in RELEASES and not cache.has(profile.busybox):
        raise ProfileError(
            f"{profile.where}: busybox = {profile.busybox!r} is not a known release "
            f"(known: {', '.join(RELEASES)}) and not in the cache"
        )
    return load_tree(profile.busybox, cache)


def base_assignments(
    tree: KconfigTree,
    base: str,
    relative_to: Path | None,
    stack: tuple[Path, ...] = (),
    root: Path | None = None,
) -> Assignments:
    """The assignments a base stands for (``defconfig`` is none at all).

    A base file must be inside ``root`` (default: the folder of
    ``relative_to``, the profile naming it) or the cache: a shared profile
    cannot make busyconf read files elsewhere on the machine.
    """
    if base == "defconfig":
        return []
    if base == "allnoconfig":
        return allnoconfig_assignments(tree)
    where = str(relative_to) if relative_to else "profile"
    folder = relative_to.parent if relative_to else Path.cwd()
    root = root or folder.resolve()
    if len(stack) > MAX_BASE_DEPTH:
        raise ProfileError(f"{where}: base chain deeper than {MAX_BASE_DEPTH} profiles")
    cand = find_base_file(base, folder)
    if cand is None:
        tried = " or ".join(str(c) for c in base_candidates(base, folder))
        raise ProfileError(
            f"{where}: unknown base {base!r}: not defconfig, allnoconfig, a profile or a .config ({tried})"
        )
    resolved = cand.resolve()
    if not _inside(resolved, root) and not _inside(resolved, Path(cache_root()).resolve()):
        raise ProfileError(
            f"{where}: base {base!r} is outside {root}; a profile may only name files in its own folder"
        )
    if cand.suffix == ".toml":
        if resolved in stack:
            chain = " -> ".join(p.name for p in (*stack, resolved))
            raise ProfileError(f"{where}: base cycle: {chain}")
        parent = load_profile(cand)
        return profile_assignments(tree, parent, (*stack, resolved), root)
    text = read_user_file(cand, error=ProfileError)
    return parse_dotconfig(text, str(cand), tree).assignments


def base_candidates(base: str, folder: Path) -> list[Path]:
    """The files a base name may stand for, in the order they are tried."""
    if "/" in base or base.endswith((".toml", ".config")):
        return [folder / base]
    return [folder / f"{base}.toml", folder / base]


def find_base_file(base: str, folder: Path) -> Path | None:
    """The file ``base`` names from ``folder`` (None for a built-in base or no such file)."""
    if base in BUILTIN_BASES:
        return None
    return next((c for c in base_candidates(base, folder) if c.is_file()), None)


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def base_for(base: str, given_in: Path, output: Path) -> str:
    """``base`` (named from the folder ``given_in``) as the profile at ``output`` must name it.

    A base file is written relative to ``output``'s folder; one outside that
    folder could not be read from the new profile, so it is refused.
    """
    if base in BUILTIN_BASES:
        return base
    cand = find_base_file(base, given_in)
    if cand is None:
        tried = " or ".join(str(c) for c in base_candidates(base, given_in))
        raise UserError(f"base {base!r}: no such profile or .config ({tried})")
    out_folder = output.absolute().parent.resolve()
    real = cand.resolve()
    if not _inside(real, out_folder):
        raise UserError(
            f"base {base!r} is outside {out_folder}, so {output} could not read it; "
            "copy it next to the new profile"
        )
    rel = real.relative_to(out_folder).as_posix()
    return rel if "/" in rel or rel.endswith((".toml", ".config")) else f"./{rel}"


def relocate(profile: Profile, tree: KconfigTree, output: Path) -> None:
    """Make ``profile`` (read from its path) right for saving at ``output``.

    A base file is renamed relative to the new folder; one the new profile
    could not reach is folded in (base ``defconfig`` plus every difference).
    """
    source = profile.path
    if source is not None and os.path.realpath(source) == os.path.realpath(output):
        return
    base = profile.base
    fragments = list(profile.fragments)
    here = (source or Path("x")).absolute().parent.resolve()
    if (base not in BUILTIN_BASES or fragments) and here != output.absolute().parent.resolve():
        try:
            if base not in BUILTIN_BASES:
                base = base_for(base, source.parent if source else Path.cwd(), output)
            fragments = [fragment_name_for(here / f, output) for f in fragments]
        except UserError:
            target = resolve(tree, profile_assignments(tree, profile))
            set_header(profile, base="defconfig")
            set_fragments(profile, [])
            write_overrides(profile, tree, minimal_overrides(tree, [], target))
            base, fragments = "defconfig", []
        set_header(profile, base=base)
        set_fragments(profile, fragments)
    profile.path = output
    profile.disk_sha256 = None


def allnoconfig_assignments(tree: KconfigTree) -> Assignments:
    """What BusyBox's ``make allnoconfig`` sets: every bool to n."""
    out = []
    for name, sym in tree.symbols.items():
        if tree.type_of(name) in ("bool", "tristate"):
            out.append((name, "y" if sym.is_allnoconfig_y else "n"))
    return out


def own_assignments(tree: KconfigTree, profile: Profile) -> Assignments:
    out = []
    for key, value in profile.config.items():
        if not tree.has(key):
            raise ProfileError(
                f"{profile.line_of(key)}: unknown symbol {key} (not in BusyBox {tree.release})"
            )
        out.append((key, to_kconfig(tree, key, value, profile.line_of(key))))
    return out


def profile_assignments(
    tree: KconfigTree, profile: Profile, stack: tuple[Path, ...] = (), root: Path | None = None
) -> Assignments:
    """The base's assignments, the fragments', then the profile's own, range-checked."""
    if profile.path is not None and not stack:
        stack = (profile.path.resolve(),)
    base = base_assignments(tree, profile.base, profile.path, stack, root)
    frags = profile_fragments(tree, profile, root)
    own = own_assignments(tree, profile)
    # Only the fragments' values that stand (not replaced later) must be in range.
    standing = {r.name: r for r in frags if r.name not in profile.config}
    with tree.applied(base + [(r.name, r.value) for r in frags] + own):
        check_ranges(tree, [(r.name, r.value) for r in standing.values()], lambda n: standing[n].where)
        check_ranges(tree, own, profile.line_of)
    return base + [(r.name, r.value) for r in frags] + own


def layered_base(tree: KconfigTree, profile: Profile) -> Assignments:
    """What [config] applies on top of: the base's assignments, then the fragments'.

    A save stays minimal against this (see :func:`minimal_overrides`).
    """
    base = base_assignments(tree, profile.base, profile.path, _stack(profile))
    return base + [(r.name, r.value) for r in profile_fragments(tree, profile)]


def resolve_profile(profile: Profile, cache: SourceCache | None = None) -> Configuration:
    tree = tree_for(profile, cache)
    return resolve(tree, profile_assignments(tree, profile))


# -- minimal editing ---------------------------------------------------------------


def minimal_overrides(
    tree: KconfigTree,
    base: Assignments,
    target: Configuration,
    start: Sequence[tuple[str, str]] = (),
    keep_order: Sequence[str] = (),
) -> Assignments:
    """The smallest set of assignments (on top of ``base``) that gives ``target``.

    Starts from ``start``; adds the changeable symbols that still differ until
    the configuration matches, then drops every assignment that makes no
    difference. Keys in ``keep_order`` keep their position; new keys follow in
    Kconfig order.
    """
    chosen: dict[str, str] = dict(start)
    for _ in range(50):
        with tree.applied(base + list(chosen.items())):
            differing = [n for n, _a, _b in configuration(tree).diff(target)]
            changeable = [n for n in differing if tree.symbols[n].visibility]
        if not differing:
            break
        if not changeable:
            raise UserError("cannot reach the requested configuration: " + ", ".join(differing[:5]))
        for n in changeable:
            chosen[n] = target.values[n]
    else:
        raise UserError("the configuration did not settle after 50 rounds")
    for name in reversed(list(chosen)):
        trial = {k: v for k, v in chosen.items() if k != name}
        if resolve(tree, base + list(trial.items())).values == target.values:
            chosen = trial
    order = {n: i for i, n in enumerate(tree.symbols)}
    first = [n for n in keep_order if n in chosen]
    rest = sorted((n for n in chosen if n not in first), key=order.__getitem__)
    return [(n, chosen[n]) for n in first + rest]


def write_overrides(profile: Profile, tree: KconfigTree, overrides: Assignments) -> None:
    """Replace the profile's [config] with ``overrides``, keeping comments.

    Changed keys keep their place; a new key goes after the last key (see
    :func:`~busyconf.model.toml_table.add_after_last_key`); removing a key that sat alone after a blank
    line takes that blank line too, so setting a value and back restores the
    file byte for byte.
    """
    table = profile.doc.get("config")
    if not isinstance(table, Table):
        table = tomlkit.table()
        profile.doc["config"] = table
    wanted = {n: to_toml(tree, n, v) for n, v in overrides}
    body = table.value.body
    blanks_before = separating_blanks(body)
    for key in list(table.keys()):
        if key not in wanted:
            del table[key]
    new = [(n, v) for n, v in wanted.items() if n not in table]
    for name, value in wanted.items():
        if name in table and plain_value(table[name]) != value:
            table[name] = value
    # From here on the body is edited as a list, which tomlkit's key index does not follow:
    # the document is rendered and parsed again at the end, so nothing reads that index.
    orphaned = separating_blanks(body) - blanks_before
    if orphaned:
        body[:] = [(key, item) for key, item in body if id(item) not in orphaned]
    added = add_after_last_key(table, new) if new else False
    if orphaned or added:
        profile.doc = tomlkit.parse(profile.doc.as_string())
    elif new:
        for name, value in new:
            table[name] = value
    table = profile.doc["config"]
    assert isinstance(table, Table)
    profile.config = {str(k): plain_value(v) for k, v in table.items()}
    profile._lines = None


def apply_changes(profile: Profile, tree: KconfigTree, changes: Iterable[tuple[str, str]]) -> Configuration:
    """Set ``changes`` in the profile and keep it minimal; return the result."""
    base = layered_base(tree, profile)
    own = own_assignments(tree, profile)
    merged = dict(own)
    for name, value in changes:
        merged.pop(name, None)
        merged[name] = value
    target = resolve(tree, base + list(merged.items()))
    overrides = minimal_overrides(tree, base, target, list(merged.items()), keep_order=list(profile.config))
    write_overrides(profile, tree, overrides)
    return target


def _stack(profile: Profile) -> tuple[Path, ...]:
    return (profile.path.resolve(),) if profile.path else ()


def set_header(profile: Profile, **fields: str) -> None:
    head = profile.doc.get("profile")
    if not isinstance(head, Table):
        head = tomlkit.table()
        profile.doc["profile"] = head
    for key, value in fields.items():
        head[key] = value
        setattr(profile, key, value)
    profile._lines = None


def dumps(profile: Profile) -> str:
    return profile.doc.as_string()


def save_profile(profile: Profile, path: Path | None = None, force: bool = False) -> Path:
    """Write the profile atomically, under its lock, keeping the file's line ends.

    Refuses (ProfileError, nothing written) when the file changed on disk
    since ``profile`` was read from it, unless ``force``. A symlink stays a
    link: its target is replaced.
    """
    target = Path(path or profile.path or "")
    if not str(target):
        raise UserError("no file name to save the profile to")
    with profile_lock(target):
        same = profile.path is not None and os.path.realpath(target) == os.path.realpath(profile.path)
        if same and not force and changed_on_disk(profile):
            raise ProfileError(f"{target}: changed on disk since it was read; reload it and try again")
        text = dumps(profile)
        newline = newline_of(target)
        write_atomic(target, text.replace("\n", newline) if newline != "\n" else text)
    profile.path = target
    profile.disk_sha256 = _text_sha256(text)
    return target


def import_dotconfig(
    text: str,
    filename: str,
    tree: KconfigTree,
    base: str = "defconfig",
    out_path: Path | None = None,
    arch: str = DEFAULT_ARCH,
    description: str = "",
    drop_unknown: bool = False,
) -> tuple[Profile, list[str]]:
    """A minimal profile that resolves to the same configuration as a .config."""
    dot = parse_dotconfig(text, filename, tree, drop_unknown=drop_unknown)
    target = resolve(tree, dot.assignments)
    prof = new_profile(
        tree.release, arch, base, description or f"imported from {Path(filename).name}", path=out_path
    )
    base_a = base_assignments(tree, base, out_path)
    overrides = minimal_overrides(tree, base_a, target)
    write_overrides(prof, tree, overrides)
    return prof, dot.dropped
