"""What a calibration has measured around one reference so far, kept on disk to resume.

The file (``calibration-state.json``, ``calibration-state-sparse.json`` in the
measuring tree) is versioned: ``{"format": STATE_FORMAT, "signature": ...}``.
A state of this format measured around another reference or toolchain is
dropped (measured afresh, as before); a state file of an older busyconf
(format 2 and before had no ``format`` field) is refused with a one-line
error naming the file, rather than silently guessed at: delete it and the
calibration measures afresh.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from busyconf.errors import UserError
from busyconf.size.calibration.records import (
    Json,
    LadderPoint,
    Toggle,
    links_from_json,
    links_to_json,
    toggles_from_json,
    toggles_to_json,
)
from busyconf.size.linkmap import LinkMap

#: Version of the state file's layout and of the measurements in it (a change starts afresh).
STATE_FORMAT = 3


@dataclass
class RelinkState:
    """Relinks done so far, for the configuration ``config`` (another one starts them afresh)."""

    config: str = ""
    links: dict[str, LinkMap] = field(default_factory=dict)

    def to_json(self) -> Json:
        return {"config": self.config, "links": links_to_json(self.links)}

    @classmethod
    def from_json(cls, data: Any) -> RelinkState:
        if not data:
            return cls()
        return cls(str(data["config"]), links_from_json(data["links"]))


@dataclass
class State:
    """The measurements around one reference (the minimal one and the ladder ride along)."""

    signature: str
    ref_size: int = 0
    toggles: dict[str, Toggle] = field(default_factory=dict)
    relinks: RelinkState = field(default_factory=RelinkState)
    minimal_size: int | None = None
    minimal_values: dict[str, str] = field(default_factory=dict)
    minimal_relinks: RelinkState = field(default_factory=RelinkState)
    ladder: dict[str, LadderPoint] = field(default_factory=dict)
    #: :func:`.reach.sibling_reach`'s probes by applet, and the rule they were made by.
    sibling_reach: dict[str, dict[str, int]] = field(default_factory=dict)
    sibling_rule: int = 0

    def to_json(self) -> Json:
        out: Json = {
            "format": STATE_FORMAT,
            "signature": self.signature,
            "ref_size": self.ref_size,
            "toggles": toggles_to_json(self.toggles),
            "relinks": self.relinks.to_json(),
            "minimal_relinks": self.minimal_relinks.to_json(),
            "minimal_values": self.minimal_values,
            "ladder": {k: p.to_json() for k, p in self.ladder.items()},
            "sibling_reach": self.sibling_reach,
            "sibling_rule": self.sibling_rule,
        }
        if self.minimal_size is not None:
            out["minimal_size"] = self.minimal_size
        return out

    @classmethod
    def from_json(cls, data: Any) -> State:
        size = data.get("minimal_size")
        return cls(
            signature=str(data["signature"]),
            ref_size=int(data.get("ref_size", 0)),
            toggles=toggles_from_json(data.get("toggles")),
            relinks=RelinkState.from_json(data.get("relinks")),
            minimal_size=None if size is None else int(size),
            minimal_values={str(k): str(v) for k, v in data.get("minimal_values", {}).items()},
            minimal_relinks=RelinkState.from_json(data.get("minimal_relinks")),
            ladder={str(k): LadderPoint.from_json(p) for k, p in data.get("ladder", {}).items()},
            sibling_reach={
                str(n): {str(k): int(v) for k, v in r.items()}
                for n, r in data.get("sibling_reach", {}).items()
            },
            sibling_rule=int(data.get("sibling_rule", 0)),
        )

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        # Not sorted: the toggles and relinks stay in the order they were measured.
        tmp.write_text(json.dumps(self.to_json(), separators=(",", ":")))
        os.replace(tmp, path)


def read_state(path: Path) -> State | None:
    """The state stored at ``path``; None when there is none (or it is unreadable)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    if data.get("format") != STATE_FORMAT:
        if "format" not in data and "signature" in data:
            raise UserError(
                f"{path}: calibration state of an older busyconf (format 2 or before); "
                "delete it to measure afresh"
            )
        return None
    try:
        return State.from_json(data)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def load_state(path: Path, signature: str) -> State:
    """The state at ``path`` if it was measured for ``signature``, else an empty one."""
    state = read_state(path)
    if state is None or state.signature != signature:
        return State(signature)
    return state
