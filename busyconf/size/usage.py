"""What the usage texts (``--help``) cost, from the texts themselves.

BusyBox keeps the usage text of every enabled applet (the short text, or
short and full with FEATURE_VERBOSE_USAGE) in one blob, bzip2'ed unless
FEATURE_COMPRESS_USAGE is off or the text is under 4 KB and nothing else links
the bunzip2 decoder (``libbb/appletlib.c``). The blob's size is an interaction
of SHOW_USAGE, the two usage options and every applet, which toggling symbols
one at a time around a reference cannot price: a compressed verbose reference
says nothing of a short uncompressed text.

So the raw texts are taken exactly: calibration compiles ``include/usage.h``
once with each ``IF_X(...)`` wrapped in markers, which splits every applet's
text into *segments* that are present when their symbols are on (``ls``'s
``-R`` while FEATURE_LS_RECURSIVE is on). The compressed size is fitted, as
``a*raw + b*sqrt(raw) + c``, to ``bzip2 -1`` of random applet subsets (the
compressor the build uses). The evaluation is incremental: a toggle touches
the segments that mention the symbol.
"""

from __future__ import annotations

import bz2
import math
import random
import subprocess
import tempfile
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from busyconf.errors import BuildError
from busyconf.model.kconfig import Applet

SHOW = "SHOW_USAGE"
VERBOSE = "FEATURE_VERBOSE_USAGE"
COMPRESS = "FEATURE_COMPRESS_USAGE"
#: The symbols the usage term prices; the link-level models leave them out.
SYMBOLS = (SHOW, VERBOSE, COMPRESS)
#: Below this many raw bytes the text stays uncompressed unless the decoder is linked anyway.
SMALL = 4 * 1024
#: When one of these holds, the bunzip2 decoder is linked anyway (``libbb/appletlib.c``).
DECODER_USERS: tuple[tuple[str, ...], ...] = (
    ("BUNZIP2",),
    ("BZCAT",),
    ("FEATURE_SEAMLESS_BZ2", "TAR"),
    ("FEATURE_SEAMLESS_BZ2", "MODPROBE"),
    ("FEATURE_SEAMLESS_BZ2", "INSMOD"),
    ("FEATURE_SEAMLESS_BZ2", "DEPMOD"),
    ("FEATURE_SEAMLESS_BZ2", "MAN"),
)
#: Random applet subsets compressed to fit the compressed size, per mode.
FIT_SUBSETS = 80

_IF, _IF_NOT, _CLOSE, _SEP = b"\x01", b"\x04", b"\x03", b"\x02"


@dataclass(frozen=True)
class Segment:
    """Bytes of usage text present while every ``(symbol, on)`` of ``when`` holds.

    ``any_of``: at least one of these must be on too (an applet table entry
    inside ``#if ENABLE_A || ENABLE_B``). ``size``: (short mode, verbose mode).
    """

    when: tuple[tuple[str, bool], ...]
    size: tuple[int, int]
    any_of: tuple[str, ...] = ()

    def holds(self, on: Container[str]) -> bool:
        if not all((s in on) == want for s, want in self.when):
            return False
        return not self.any_of or any(s in on for s in self.any_of)


@dataclass(frozen=True)
class UsageModel:
    """The usage term: ``code + text`` while SHOW_USAGE is on (see the module docstring).

    ``fit``: per mode, the compressed size of a raw text (:func:`compressed_size`).
    ``code``: show-usage code; ``compress_code``: extra code when compressed;
    ``decoder``: the bunzip2 decoder's bytes, paid by the usage texts when
    compressed and no applet links it.
    """

    segments: tuple[Segment, ...]
    fit: tuple[Fit, Fit]
    code: int
    compress_code: int
    decoder: int

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> UsageModel:
        segs = tuple(
            Segment(
                tuple((str(n), bool(v)) for n, v in s["when"]),
                (int(s["size"][0]), int(s["size"][1])),
                tuple(str(n) for n in s.get("any_of", ())),
            )
            for s in data["segments"]
        )
        f0, f1 = (tuple(float(x) for x in f) for f in data["fit"])
        if len(f0) != 3 or len(f1) != 3:
            raise ValueError("usage fit needs three coefficients per mode")
        return cls(
            segs,
            ((f0[0], f0[1], f0[2]), (f1[0], f1[1], f1[2])),
            int(data["code"]),
            int(data["compress_code"]),
            int(data["decoder"]),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "segments": [
                {
                    "when": [[n, v] for n, v in s.when],
                    "size": list(s.size),
                    **({"any_of": list(s.any_of)} if s.any_of else {}),
                }
                for s in self.segments
            ],
            "fit": [list(self.fit[0]), list(self.fit[1])],
            "code": self.code,
            "compress_code": self.compress_code,
            "decoder": self.decoder,
        }

    def symbols(self) -> set[str]:
        """Every symbol the term depends on."""
        out = set(SYMBOLS) | {s for rule in DECODER_USERS for s in rule}
        for seg in self.segments:
            out.update(n for n, _ in seg.when)
            out.update(seg.any_of)
        return out


class _Less:
    """``on`` without ``off``, without copying ``on``."""

    def __init__(self, on: Container[str], off: Container[str]) -> None:
        self.on, self.off = on, off

    def __contains__(self, name: object) -> bool:
        return name in self.on and name not in self.off


class UsageState:
    """Incremental evaluation of a :class:`UsageModel`."""

    def __init__(self, model: UsageModel) -> None:
        self.model = model
        self.on: set[str] = set()
        self._by_symbol: dict[str, list[int]] = {}
        for i, seg in enumerate(model.segments):
            for name in {n for n, _ in seg.when} | set(seg.any_of):
                self._by_symbol.setdefault(name, []).append(i)
        self._rules = frozenset(s for rule in DECODER_USERS for s in rule)
        self._touch = frozenset(self._by_symbol) | self._rules | frozenset(SYMBOLS)
        self._live = [seg.holds(self.on) for seg in model.segments]
        self.raw = [0, 0]
        for seg, live in zip(model.segments, self._live, strict=True):
            if live:
                self.raw[0] += seg.size[0]
                self.raw[1] += seg.size[1]
        self._total: int | None = None
        self._linked: bool | None = None

    def set(self, name: str, on: bool) -> None:
        """Switch ``name`` on or off; symbols the term does not depend on are not kept."""
        if name not in self._touch or on == (name in self.on):
            return
        self._total = self._linked = None
        if on:
            self.on.add(name)
        else:
            self.on.discard(name)
        segs = self.model.segments
        for i in self._by_symbol.get(name, ()):
            now = segs[i].holds(self.on)
            if now != self._live[i]:
                self._live[i] = now
                sign = 1 if now else -1
                self.raw[0] += sign * segs[i].size[0]
                self.raw[1] += sign * segs[i].size[1]

    def decoder_linked(self, on: Container[str] | None = None) -> bool:
        """Whether an applet links the bunzip2 decoder anyway."""
        if on is None:
            if self._linked is None:
                self._linked = any(all(s in self.on for s in rule) for rule in DECODER_USERS)
            return self._linked
        return any(all(s in on for s in rule) for rule in DECODER_USERS)

    @property
    def total(self) -> int:
        """Bytes of usage text and code in the binary."""
        if self._total is None:
            self._total = self._bytes(self.on, self.raw)
        return self._total

    def without(self, names: Iterable[str]) -> int:
        """:attr:`total` with ``names`` switched off (the state is left alone)."""
        off = {n for n in names if n in self.on and n in self._touch}
        if not off:
            return self.total
        on = _Less(self.on, off)
        raw = list(self.raw)
        segs = self.model.segments
        for i in {i for n in off for i in self._by_symbol.get(n, ())}:
            now = segs[i].holds(on)
            if now != self._live[i]:
                # IF_NOT_X text appears as X goes.
                sign = 1 if now else -1
                raw[0] += sign * segs[i].size[0]
                raw[1] += sign * segs[i].size[1]
        return self._bytes(on, raw)

    def full_model_fix(self, without: Iterable[str] = ()) -> int:
        """Correction to a model whose base holds the decoder (the full reference's does).

        ``without``: as if these were off.
        """
        off = {n for n in without if n in self._rules}
        linked = self.decoder_linked(_Less(self.on, off) if off else None)
        return 0 if linked else -self.model.decoder

    def _bytes(self, on: Container[str], raw: list[int]) -> int:
        m = self.model
        if SHOW not in on:
            return 0
        mode = 1 if VERBOSE in on else 0
        text = raw[mode]
        linked = self.decoder_linked(None if on is self.on else on)
        if COMPRESS in on and (text >= SMALL or linked) and text > 0:
            return (
                m.code + m.compress_code + compressed_size(m.fit[mode], text) + (0 if linked else m.decoder)
            )
        return m.code + text + 1


Marked = tuple[Applet, bytes, bytes]


def extract_texts(
    include: Path,
    applets: Iterable[Applet],
    values: Mapping[str, str],
    types: Mapping[str, str],
    hostcc: str,
) -> list[Marked]:
    """Every applet's (short, verbose) usage text with ``IF_X(...)`` marked, from ``include/usage.h``.

    ``values`` decide the ``#if ENABLE_X`` blocks of usage.h and the string
    and number options quoted in texts. Compiles and runs a small host program.
    """
    applets = [a for a in applets if a.usage]
    lines = ["#define BB_MMU 1", "#define USE_FOR_NOMMU(...)", "#define USE_FOR_MMU(...) __VA_ARGS__"]
    for name, kind in types.items():
        lines.append(f"#define ENABLE_{name} {int(values.get(name) == 'y')}")
        lines.append(f'#define IF_{name}(...) "\\001" "{name}" "\\002" __VA_ARGS__ "\\003"')
        lines.append(f'#define IF_NOT_{name}(...) "\\004" "{name}" "\\002" __VA_ARGS__ "\\003"')
        value = values.get(name)
        if kind == "string" and value is not None:
            quoted = value.replace("\\", "\\\\").replace('"', '\\"')
            lines.append(f'#define CONFIG_{name} "{quoted}"')
        elif kind in ("int", "hex") and value:
            lines.append(f"#define CONFIG_{name} {value}")
    table = "\n".join(
        f"  {a.usage}_trivial_usage, {a.usage}_trivial_usage {a.usage}_full_usage," for a in applets
    )
    # An applet whose text hides behind an #if that ``values`` leave false has none.
    fallback = "".join(
        f'#ifndef {a.usage}_{kind}_usage\n#define {a.usage}_{kind}_usage ""\n#endif\n'
        for a in {a.usage: a for a in applets}.values()
        for kind in ("trivial", "full")
    )
    program = (
        "#include <stdio.h>\n#include <string.h>\n"
        '#include "busyconf_usage_config.h"\n#include "usage.h"\n'
        f"{fallback}"
        f"static const char *texts[] = {{\n{table}\n}};\n"
        "int main(void) {\n"
        "  for (unsigned i = 0; i < sizeof texts / sizeof texts[0]; i++)\n"
        "    fwrite(texts[i], 1, strlen(texts[i]) + 1, stdout);\n"
        "  return 0;\n}\n"
    )
    with tempfile.TemporaryDirectory(prefix="busyconf-usage-") as tmp:
        d = Path(tmp)
        (d / "busyconf_usage_config.h").write_text("\n".join(lines) + "\n")
        (d / "usage_texts.c").write_text(program)
        exe = d / "usage_texts"
        cc = subprocess.run(
            [hostcc, "-w", "-I", str(d), "-I", str(include), "-o", str(exe), str(d / "usage_texts.c")],
            capture_output=True,
            text=True,
        )
        if cc.returncode != 0:
            first = next((ln for ln in cc.stderr.splitlines() if "error" in ln), cc.stderr.strip()[:200])
            raise BuildError(f"{include}/usage.h: cannot compile the usage texts: {first}")
        out = subprocess.run([str(exe)], capture_output=True, check=True).stdout
    texts = out.split(b"\0")[:-1]
    if len(texts) != 2 * len(applets):
        raise BuildError(f"{include}/usage.h: expected {2 * len(applets)} usage texts, got {len(texts)}")
    return [(a, texts[2 * i], texts[2 * i + 1]) for i, a in enumerate(applets)]


def segments(marked: Iterable[Marked]) -> tuple[Segment, ...]:
    """Each applet's text split by the conditions its parts need (its own symbols included)."""
    sizes: dict[tuple[tuple[tuple[str, bool], ...], tuple[str, ...]], list[int]] = {}
    for applet, *texts in marked:
        own = tuple((s, True) for s in applet.requires) + tuple((s, False) for s in applet.excludes)
        for mode, text in enumerate(texts):
            # The terminating NUL belongs to the applet's own segment.
            sizes.setdefault((tuple(sorted(own)), applet.any_of), [0, 0])[mode] += 1
            for when, n in _split(text).items():
                key = (tuple(sorted(set(own) | set(when))), applet.any_of)
                sizes.setdefault(key, [0, 0])[mode] += n
    return tuple(Segment(when, (s[0], s[1]), any_of) for (when, any_of), s in sorted(sizes.items()))


def _split(text: bytes) -> dict[tuple[tuple[str, bool], ...], int]:
    """Bytes per set of marker conditions in one marked-up text."""
    out: dict[tuple[tuple[str, bool], ...], int] = {}
    for when, chunk in usage_chunks(text):
        out[when] = out.get(when, 0) + len(chunk)
    return out


def usage_chunks(text: bytes) -> Iterable[tuple[tuple[tuple[str, bool], ...], bytes]]:
    stack: list[tuple[str, bool]] = []
    start = i = 0
    while i < len(text):
        c = text[i : i + 1]
        if c not in (_IF, _IF_NOT, _CLOSE):
            i += 1
            continue
        if i > start:
            yield tuple(sorted(set(stack))), text[start:i]
        if c == _CLOSE:
            stack.pop()
            i += 1
        else:
            end = text.index(_SEP, i)
            stack.append((text[i + 1 : end].decode(), c == _IF))
            i = end + 1
        start = i
    if i > start:
        yield tuple(sorted(set(stack))), text[start:i]


def render(text: bytes, on: set[str] | frozenset[str]) -> bytes:
    """A marked text as the build would produce it with ``on`` the enabled symbols."""
    return b"".join(chunk for when, chunk in usage_chunks(text) if all((s in on) == v for s, v in when))


Fit = tuple[float, float, float]


def fit_compression(
    marked: list[Marked], on: set[str] | frozenset[str], subsets: int = FIT_SUBSETS, seed: int = 1
) -> tuple[Fit, Fit]:
    """``bzip2 -1`` size of random applet subsets' texts as ``a*raw + b*sqrt(raw) + c``, per mode.

    Chosen over a power law (max error 12.8 KB on verbose texts of 1.38.0) and
    ``raw*(a + b*ln raw)`` (1.7 KB): this form stays within 0.7 KB.
    """
    rng = random.Random(seed)
    ordered = sorted(marked, key=lambda m: m[0].name.encode())
    fits = []
    for mode in (1, 2):
        texts = [render(m[2] if mode == 2 else m[1], on) + b"\0" for m in ordered]
        rows: list[tuple[float, float, float]] = []
        ys: list[float] = []
        for i in range(subsets):
            p = (0.01, 0.03, 0.1, 0.2, 0.4, 0.7, 1.0)[i % 7] * rng.random()
            blob = b"".join(t for t in texts if rng.random() < p) or texts[0]
            rows.append((float(len(blob)), math.sqrt(len(blob)), 1.0))
            ys.append(float(len(bz2.compress(blob, 1)) - 2))
        a, b, c = _least_squares(rows, ys)
        fits.append((a, b, c))
    return fits[0], fits[1]


def compressed_size(fit: Fit, raw: int) -> int:
    a, b, c = fit
    return max(0, round(a * raw + b * math.sqrt(raw) + c))


def _least_squares(rows: list[tuple[float, float, float]], ys: list[float]) -> Fit:
    """Solve the 3x3 normal equations (Gaussian elimination with pivoting)."""
    m = [
        [sum(r[i] * r[j] for r in rows) for j in range(3)]
        + [sum(r[i] * y for r, y in zip(rows, ys, strict=True))]
        for i in range(3)
    ]
    for col in range(3):
        piv = max(range(col, 3), key=lambda r: abs(m[r][col]))
        m[col], m[piv] = m[piv], m[col]
        if m[col][col] == 0:
            raise ValueError("degenerate fit")
        for r in range(3):
            if r != col:
                f = m[r][col] / m[col][col]
                m[r] = [x - f * y for x, y in zip(m[r], m[col], strict=True)]
    return m[0][3] / m[0][0], m[1][3] / m[1][1], m[2][3] / m[2][2]
