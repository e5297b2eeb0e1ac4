"""The usage term: texts from ``include/usage.h``, code sizes from the usage toggles measured."""

from __future__ import annotations

from collections.abc import Mapping

from busyconf.model.kconfig import KconfigTree
from busyconf.size import usage as usage_texts
from busyconf.size.calibration.fit import is_usage
from busyconf.size.calibration.records import Relinks, Toggle, UsageText
from busyconf.size.workdir import WorkTree

#: The bunzip2 decoder's object: the full reference's base holds it (compressed usage texts).
DECODER_OBJECT = "archival/libarchive/decompress_bunzip2.o"


def measure_texts(tree: KconfigTree, wt: WorkTree, ref_values: Mapping[str, str]) -> tuple[UsageText, ...]:
    """Every applet's usage texts for ``ref_values`` (compiles a small host program)."""
    marked = usage_texts.extract_texts(
        wt.obj / "include",
        tree.applets,
        ref_values,
        {n: tree.type_of(n) for n in tree.symbols},
        wt.tools.variables.get("HOSTCC", "gcc"),
    )
    return tuple(UsageText(a, short, verbose) for a, short, verbose in marked)


def toggle_code(toggles: Mapping[str, Toggle], ref_size: int, name: str) -> int | None:
    """Code bytes a usage symbol's toggle adds, its texts' change taken off; None if not measured."""
    t = toggles.get(name)
    if not t or name not in t.changed:
        return None
    sign = -1 if t.flip == "n" else 1
    texts = sum(int(d) for k, d in t.diff.items() if is_usage(k))
    return sign * (int(t.size) - ref_size - texts)


def usage_model(
    texts: tuple[UsageText, ...],
    full_values: Mapping[str, str],
    full_relinks: Relinks,
    full_toggles: Mapping[str, Toggle],
    full_size: int,
    sparse_toggles: Mapping[str, Toggle] | None = None,
    sparse_size: int = 0,
) -> usage_texts.UsageModel:
    """The usage term (pure).

    Code: SHOW_USAGE switched on at the sparse reference (short, uncompressed
    texts) less its texts, else switched off at the full one. Compression:
    FEATURE_COMPRESS_USAGE switched off at the full reference less the texts'
    change, plus ``unpack_bz2_data``; the rest of the decoder is what the
    texts pay when no applet links it.
    """
    marked = [(t.applet, t.short, t.verbose) for t in texts]
    on_full = {n for n, v in full_values.items() if v == "y"}
    none = full_relinks.none.sections
    decoder = {k: v for k, v in none.items() if k.startswith(DECODER_OBJECT + ":")}
    unpack = sum(v for k, v in decoder.items() if k.endswith("unpack_bz2_data)"))
    glue = toggle_code(full_toggles, full_size, usage_texts.COMPRESS) or 0
    code = None if sparse_toggles is None else toggle_code(sparse_toggles, sparse_size, usage_texts.SHOW)
    if code is None:
        code = (toggle_code(full_toggles, full_size, usage_texts.SHOW) or 0) - glue
    return usage_texts.UsageModel(
        usage_texts.segments(marked),
        usage_texts.fit_compression(marked, on_full),
        code=code,
        compress_code=glue + unpack,
        decoder=sum(decoder.values()) - unpack,
    )
