"""Typed records of what calibration measures, each with a JSON round trip.

Every record turns into plain JSON (``to_json``) and back (``from_json``);
fields at their default are left out, so the stored form stays compact and
an older record reads with the defaults. Which file holds them, and its
version, is for :mod:`.state` and :mod:`.measurements`.

Mappings whose order the fit depends on are lists of ``[key, value]`` pairs,
in the order they were measured, so that a JSON writer sorting keys keeps
it: the applet symbols (a section several applets keep takes its size from
the last one), the relinks (the minimal reference's sections, likewise) and
the toggles (the first toggle reaching a section gives its size).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from busyconf.model.kconfig import Applet
from busyconf.size.linkmap import LinkMap

Json = dict[str, Any]


def _ints(data: Any) -> dict[str, int]:
    return {str(k): int(v) for k, v in (data or {}).items()}


def link_to_json(lm: LinkMap) -> Json:
    return {"sections": dict(lm.sections), "file_size": lm.file_size}


def link_from_json(data: Mapping[str, Any]) -> LinkMap:
    return LinkMap(_ints(data["sections"]), int(data["file_size"]))


def links_to_json(links: Mapping[str, LinkMap]) -> list[Any]:
    return [[k, link_to_json(v)] for k, v in links.items()]


def links_from_json(data: Any) -> dict[str, LinkMap]:
    return {str(k): link_from_json(v) for k, v in (data or ())}


@dataclass
class Toggle:
    """One symbol flipped from a reference (or its share of a group, or a borrowed one).

    ``size`` is the binary's size with ``flip`` applied, ``changed`` the
    symbols whose value moved, ``diff`` the bytes each input section gained
    against the reference's link. ``forced``: measured forced off in the
    compiled headers (a selected symbol); ``probe``/``probe_off_each``: the
    functions its diff names and their links with the symbol off, until
    :func:`.reach.forced_reach` turns them into ``reach``: sections kept alive
    only while the symbol is on.
    """

    flip: str
    changed: list[str]
    size: int
    diff: dict[str, int]
    approx: bool = False
    applets: bool = False
    needs: tuple[str, ...] = ()
    chain: int = 0
    forced: bool = False
    failed: bool = False
    probe: list[str] = field(default_factory=list)
    probe_off_each: dict[str, dict[str, int]] | None = None
    reach: dict[str, int] | None = None
    reach_rule: int = 0
    library_reach: int = 0
    group: int = 1
    members: list[str] = field(default_factory=list)

    def to_json(self) -> Json:
        out: Json = {
            "flip": self.flip,
            "changed": list(self.changed),
            "size": self.size,
            "diff": dict(self.diff),
        }
        defaults = _TOGGLE_DEFAULTS
        for name in _TOGGLE_OPTIONAL:
            value = getattr(self, name)
            if value != getattr(defaults, name):
                out[name] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Toggle:
        off = data.get("probe_off_each")
        reach = data.get("reach")
        return cls(
            flip=str(data["flip"]),
            changed=[str(n) for n in data["changed"]],
            size=int(data["size"]),
            diff=_ints(data["diff"]),
            approx=bool(data.get("approx", False)),
            applets=bool(data.get("applets", False)),
            needs=tuple(str(n) for n in data.get("needs", ())),
            chain=int(data.get("chain", 0)),
            forced=bool(data.get("forced", False)),
            failed=bool(data.get("failed", False)),
            probe=[str(f) for f in data.get("probe", ())],
            probe_off_each=None if off is None else {str(f): _ints(s) for f, s in off.items()},
            reach=None if reach is None else _ints(reach),
            reach_rule=int(data.get("reach_rule", 0)),
            library_reach=int(data.get("library_reach", 0)),
            group=int(data.get("group", 1)),
            members=[str(n) for n in data.get("members", ())],
        )

    def measured_only(self) -> Toggle:
        """Without what is kept only to resume (the probes' links)."""
        return replace(self, probe_off_each=None)


_TOGGLE_DEFAULTS = Toggle("n", [], 0, {})
_TOGGLE_OPTIONAL = (
    "approx",
    "applets",
    "needs",
    "chain",
    "forced",
    "failed",
    "probe",
    "probe_off_each",
    "reach",
    "reach_rule",
    "library_reach",
    "group",
    "members",
)


def toggles_to_json(toggles: Mapping[str, Toggle]) -> list[Any]:
    return [[n, t.to_json()] for n, t in toggles.items()]


def toggles_from_json(data: Any) -> dict[str, Toggle]:
    return {str(n): Toggle.from_json(t) for n, t in (data or ())}


@dataclass(frozen=True)
class Relinks:
    """The reference relinked with no applet (``"(none)"``), each applet symbol alone, and subsets.

    ``by_symbol``: the ``*_main`` functions each applet symbol keeps;
    ``subsets``: random sets of applet symbols relinked together, in the
    order they were drawn (the merged-strings fit reads them in that order);
    ``aliases``: a symbol whose applet runs another symbol's main (sh when
    ash is sh) -> that symbol.
    """

    links: dict[str, LinkMap]
    by_symbol: dict[str, list[str]]
    subsets: tuple[tuple[str, tuple[str, ...]], ...] = ()
    aliases: dict[str, str] = field(default_factory=dict)

    @property
    def none(self) -> LinkMap:
        return self.links["(none)"]

    def to_json(self) -> Json:
        return {
            "links": links_to_json(self.links),
            "by_symbol": [[k, list(v)] for k, v in self.by_symbol.items()],
            "subsets": [[job, list(names)] for job, names in self.subsets],
            "aliases": dict(self.aliases),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Relinks:
        return cls(
            links_from_json(data["links"]),
            {str(k): [str(m) for m in v] for k, v in data["by_symbol"]},
            tuple((str(job), tuple(str(n) for n in names)) for job, names in data.get("subsets", ())),
            {str(k): str(v) for k, v in data.get("aliases", {}).items()},
        )


@dataclass(frozen=True)
class Minimal:
    """The minimal reference (allnoconfig + every applet): its size, values and relinks."""

    size: int
    values: dict[str, str]
    links: dict[str, LinkMap]

    def to_json(self) -> Json:
        return {"size": self.size, "values": dict(self.values), "links": links_to_json(self.links)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Minimal:
        return cls(
            int(data["size"]),
            {str(k): str(v) for k, v in data["values"].items()},
            links_from_json(data["links"]),
        )


@dataclass(frozen=True)
class LadderPoint:
    """One configuration of :mod:`.ladder`: allnoconfig with ``share`` of the applets."""

    share: float
    applets: tuple[str, ...]
    size: int = 0
    on: tuple[str, ...] = ()
    failed: bool = False

    def to_json(self) -> Json:
        out: Json = {"share": self.share, "applets": list(self.applets)}
        if self.failed:
            out["failed"] = True
        else:
            out.update(size=self.size, on=list(self.on))
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LadderPoint:
        return cls(
            float(data["share"]),
            tuple(str(n) for n in data["applets"]),
            int(data.get("size", 0)),
            tuple(str(n) for n in data.get("on", ())),
            bool(data.get("failed", False)),
        )


@dataclass(frozen=True)
class UsageText:
    """One applet's usage texts (short, verbose) with ``IF_X(...)`` marked (:func:`usage.extract_texts`)."""

    applet: Applet
    short: bytes
    verbose: bytes

    def to_json(self) -> Json:
        a = self.applet
        return {
            "name": a.name,
            "requires": list(a.requires),
            "any_of": list(a.any_of),
            "excludes": list(a.excludes),
            "main": a.main,
            "usage": a.usage,
            # Bytes as latin-1 text: one character per byte, every byte kept.
            "short": self.short.decode("latin-1"),
            "verbose": self.verbose.decode("latin-1"),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> UsageText:
        applet = Applet(
            str(data["name"]),
            tuple(data["requires"]),
            tuple(data["any_of"]),
            tuple(data["excludes"]),
            data["main"],
            str(data["usage"]),
        )
        return cls(applet, str(data["short"]).encode("latin-1"), str(data["verbose"]).encode("latin-1"))


def siblings(by_symbol: Mapping[str, list[str]]) -> dict[str, set[str]]:
    """Per applet symbol, the others whose relinks keep the same main (``[[`` and ``test``: test_main)."""
    by_main: dict[str, set[str]] = {}
    for name, mains in by_symbol.items():
        for m in mains:
            by_main.setdefault(m, set()).add(name)
    return {n: set().union(*(by_main[m] for m in mains)) - {n} for n, mains in by_symbol.items()}
