"""Size estimates against real stripped binaries, per CPU and per release.

    python bench/size_accuracy.py [--arch x86_64 --arch aarch64 | --all-arches]
                                  [--release 1.38.0] [--random 20] [--seed 1]
                                  [--limit N] [--kbuild N] [--json PATH]
                                  [--write-coarse-range] [--real-from OLD.json]

For each CPU it builds every starter profile (configs/*.toml), Debian's three
configs (deb, static, udeb from busybox 1:1.38.0-3: the Debian tarball in
``~/.cache/busyconf-testdata``, else ``apt-get source --download-only``;
projected onto the release's tree, unknown symbols dropped) and seeded random
valid configurations, and prints per row the real stripped size, the estimate
(the size table, or the coarse model where the CPU has none) and its error.

The baseline, measured in the same run, is the coarse model (BusyBox's prompt
labels scaled to the CPU's defconfig, unlabelled options at a typical price,
``busyconf/size/labels.py``), and beside it the same labels with unlabelled
options at 0 (the coarse model before that rule). A summary gives per CPU the
table kind, the number of rows and the median and max |error| of each.
``--write-coarse-range`` stores the coarse model's |error| per CPU measured in
the run (10 rows or more) in ``busyconf/size/coarse_error.toml``, which the
coarse estimate shows as its ``± N %``; the other CPUs' entries are kept.

The real size comes from the exact engine (objects compiled for the
configuration's own symbol values, linked by the real linker; the tests check
it equals a kbuild build). ``--kbuild N`` also builds the first N rows with
BusyBox's own make and prints both sizes. It then times a toggle of the
estimate and the exact size of a configuration one toggle away from a
measured one.

``--real-from OLD.json`` re-scores a new table against the real sizes an
earlier run measured: the binaries depend on the configuration, the tree and
the toolchain, not on the table, so a row with the same CPU, release, name
and values takes the old real size instead of a build (seconds instead of
minutes per CPU); the others are built. The latency is then not measured.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from busyconf.build import broken  # noqa: E402
from busyconf.build.arch import known_arches  # noqa: E402
from busyconf.errors import BuildError, BusyconfError, UserError  # noqa: E402
from busyconf.model import load_tree, resolve  # noqa: E402
from busyconf.model.config import Configuration  # noqa: E402
from busyconf.model.dotconfig import dotconfig_text, parse_dotconfig  # noqa: E402
from busyconf.model.kconfig import KconfigTree  # noqa: E402
from busyconf.model.profile import allnoconfig_assignments, load_profile, profile_assignments  # noqa: E402
from busyconf.size import Estimator, TableKey, estimator_for  # noqa: E402
from busyconf.size.coarse_range import RANGE_FILE, CoarseRange, write_ranges  # noqa: E402
from busyconf.size.cost_model import Evaluation, SizeModel, enabled_names  # noqa: E402
from busyconf.size.exact import ExactEngine, engine_for  # noqa: E402
from busyconf.size.labels import LABELS_ONLY, label_model  # noqa: E402
from busyconf.size.table import table_kind  # noqa: E402
from busyconf.size.workdir import make_binary  # noqa: E402
from busyconf.source import DEFAULT_RELEASE, SourceCache  # noqa: E402

DEBIAN = "busybox_1.38.0-3.debian.tar.xz"
#: Fewer rows than this for a CPU and --write-coarse-range leaves its range alone.
MIN_ROWS = 10
#: The columns compared with the real size, in the order printed.
MODELS = ("estimate", "coarse", "labels only")


def debian_configs() -> dict[str, Path]:
    """deb, static and udeb from Debian's packaging of 1.38.0."""
    tmp = Path(tempfile.mkdtemp(prefix="busyconf-deb-"))
    local = Path.home() / ".cache" / "busyconf-testdata" / DEBIAN
    if local.is_file():
        deb = local
    else:
        subprocess.run(["apt-get", "source", "--download-only", "busybox=1:1.38.0-3"], cwd=tmp, check=True)
        deb = next(tmp.glob("busybox_*.debian.tar.*"))
    with tarfile.open(deb) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith("debian/config/pkg/")]
        tar.extractall(tmp, members=members, filter="data")
    folder = tmp / "debian" / "config" / "pkg"
    return {f"debian-{n}": folder / n for n in ("deb", "static", "udeb")}


def buildable(tree: KconfigTree, assignments: list[tuple[str, str]], arch: str) -> Configuration:
    """The configuration as busyconf builds it: known-broken options off, static."""
    config = resolve(tree, assignments)
    problems = broken.check(config.values, release=tree.release, toolchain="zig", arch=arch)
    extra = [(p.symbol, p.safe) for p in problems] + [("STATIC", "y")]
    return resolve(tree, assignments + extra)


#: Debug-malloc libraries a static musl build cannot link (-lefence, -ldmalloc), and
#: the choice they are in: never flipped.
NOT_BUILDING = ("EFENCE", "DMALLOC", "NO_DEBUG_LIB")


def random_assignments(tree: KconfigTree, rng: random.Random) -> list[tuple[str, str]]:
    """defconfig or allnoconfig, then a random share of bool options flipped."""
    base = allnoconfig_assignments(tree) if rng.random() < 0.3 else []
    config = resolve(tree, base)
    p = rng.choice((0.05, 0.15, 0.3, 0.5))
    bools = [n for n in tree.symbols if tree.type_of(n) == "bool" and n not in ("STATIC", "PIE", "NOMMU")]
    flips = [
        (n, "n" if config.values.get(n) == "y" else "y")
        for n in bools
        if rng.random() < p and n not in NOT_BUILDING
    ]
    return base + flips


def configs(tree: KconfigTree, arch: str, n_random: int, seed: int) -> dict[str, Configuration]:
    """The starters, Debian's three (projected onto ``tree``) and ``n_random`` seeded random ones."""
    out: dict[str, Configuration] = {}
    for path in sorted((ROOT / "configs").glob("*.toml")):
        out[f"starter-{path.stem}"] = buildable(tree, profile_assignments(tree, load_profile(path)), arch)
    for name, path in debian_configs().items():
        dot = parse_dotconfig(path.read_text(), str(path), tree, drop_unknown=True)
        out[name] = buildable(tree, list(dot.assignments), arch)
    rng = random.Random(seed)
    for i in range(n_random):
        out[f"random-{i:02d}"] = buildable(tree, random_assignments(tree, rng), arch)
    return out


def config_text(tree: KconfigTree, config: Configuration) -> str:
    return dotconfig_text(tree, list(config.values.items()))


def pct(est: int, real: int) -> float:
    return (est - real) / real * 100


def label_total(model: SizeModel, config: Configuration) -> int:
    ev = Evaluation(model)
    ev.sync(enabled_names(config.values, model))
    return ev.total


@dataclass
class CpuResult:
    """One CPU's rows: each model's error in percent, row by row."""

    arch: str
    kind: str
    errs: dict[str, list[float]] = field(default_factory=lambda: {m: [] for m in MODELS})

    @property
    def n(self) -> int:
        return len(self.errs["estimate"])

    def stats(self, model: str) -> tuple[float, float]:
        """(median, max) |error| of ``model``, in percent."""
        a = [abs(e) for e in self.errs[model]]
        return (statistics.median(a), max(a)) if a else (float("nan"), float("nan"))

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"arch": self.arch, "kind": self.kind, "n": self.n}
        for m in MODELS:
            med, top = self.stats(m)
            out[m.replace(" ", "_")] = {"median_abs_err": round(med, 3), "max_abs_err": round(top, 3)}
        return out


def run_arch(
    release: str,
    arch: str,
    n_random: int,
    seed: int,
    limit: int | None,
    kbuild: int,
    rows_out: list[dict[str, Any]],
    known: Known | None = None,
) -> CpuResult:
    tree = load_tree(release)
    est = estimator_for(release, arch)
    models = {"coarse": label_model(tree, arch), "labels only": label_model(tree, arch, LABELS_ONLY)}
    engine = engine_for(release, arch)
    cases = configs(tree, arch, n_random, seed)
    if limit:
        cases = dict(list(cases.items())[:limit])
    result = CpuResult(arch, table_kind(TableKey(release, arch, "zig")))
    print(f"\n== {arch} {release} ({result.kind}): {est.basis}", flush=True)
    cols = ("real", "estimate", "err %", "coarse", "err %", "labels only", "err %", "exact s")
    widths = (10, 10, 7, 10, 7, 11, 7, 8)
    print(f"{'config':<26} " + " ".join(f"{c:>{w}}" for c, w in zip(cols, widths, strict=True)), flush=True)
    reused = 0
    tools = engine.wt.tools.tools_dir.name
    for i, (name, config) in enumerate(cases.items()):
        text = config_text(tree, config)
        before = (known or {}).get((arch, release, name))
        if before is not None and before[0] == dict(config.values) and before[2] in ("", tools):
            real, seconds = before[1], "reused"
            reused += 1
        else:
            try:
                res = engine.measure(text)
            except BuildError as e:
                print(f"{name:<26} does not build: {str(e)[-160:]}", flush=True)
                continue
            real, seconds = res.size, f"{res.seconds:.1f}"
        if i < kbuild:
            built = make_binary(engine.wt, text)
            same = "equal" if built == real else "DIFFERENT"
            print(f"   kbuild build of {name}: {built:,} bytes (exact engine {real:,}, {same})")
        sizes = {"estimate": est.total(config), **{m: label_total(models[m], config) for m in models}}
        for m, v in sizes.items():
            result.errs[m].append(pct(v, real))
        rows_out.append(
            {
                "arch": arch,
                "release": release,
                "name": name,
                "real": real,
                "values": config.values,
                "tools": tools,
                **sizes,
            }
        )
        print(
            f"{name:<26} {real:>10,} "
            + " ".join(
                f"{sizes[m]:>{w},} {pct(sizes[m], real):>+7.2f}"
                for m, w in zip(MODELS, (10, 10, 11), strict=True)
            )
            + f" {seconds:>8}",
            flush=True,
        )
    for m in MODELS:
        med, top = result.stats(m)
        print(f"{arch} {m:<12} median |err| {med:6.2f} %   max |err| {top:6.2f} %   (n={result.n})")
    if known is None:
        latency(tree, est, engine)
    else:
        print(f"{reused} of {result.n} real sizes reused from --real-from; latency not measured")
    return result


#: (arch, release, row name) -> (the row's values, its real size, the tools digest that built it:
#: armv7 as ARM and as Thumb-2 differ only there; "" in files written before it was recorded).
Known = dict[tuple[str, str, str], tuple[dict[str, str], int, str]]


def read_known(paths: list[Path]) -> Known:
    """The real sizes earlier runs measured (``--real-from``): a row is reused only with the same values."""
    out: Known = {}
    for path in paths:
        try:
            doc = json.loads(path.read_text())
            for r in doc["rows"]:
                key = (r["arch"], r["release"], r["name"])
                out[key] = (dict(r["values"]), int(r["real"]), str(r.get("tools", "")))
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise UserError(f"{path}: not a --json file of this bench ({e})") from None
    return out


def print_summary(release: str, results: list[CpuResult]) -> None:
    """One row per CPU: table kind, rows, and median / max |error| of each model."""
    print(f"\n== summary, BusyBox {release}: median / max |error| in %")
    head = f"{'CPU':<12} {'kind':<26} {'n':>3} " + " ".join(f"{m:>16}" for m in MODELS)
    print(head)
    for r in results:
        cells = " ".join(f"{'%.2f / %.2f' % r.stats(m):>16}" for m in MODELS)
        print(f"{r.arch:<12} {r.kind:<26} {r.n:>3} {cells}")


def coarse_ranges(release: str, results: list[CpuResult], random: int, seed: int) -> dict[str, CoarseRange]:
    """The coarse model's measured range for each CPU with at least :data:`MIN_ROWS` rows.

    Each carries the command that measures that CPU alone again (no output path of this run).
    """
    out: dict[str, CoarseRange] = {}
    for r in results:
        if r.n < MIN_ROWS:
            print(f"{r.arch}: {r.n} rows, fewer than {MIN_ROWS}: its coarse range is left as it was")
            continue
        med, top = r.stats("coarse")
        command = (
            f"python bench/size_accuracy.py --arch {r.arch} --release {release} "
            f"--random {random} --seed {seed} --write-coarse-range"
        )
        out[r.arch] = CoarseRange(release, r.n, round(med, 2), round(top, 2), command)
    return out


def latency(tree: KconfigTree, est: Estimator, engine: ExactEngine) -> None:
    """Per-toggle estimate time, and exact sizes one toggle away from a measured configuration."""
    config = buildable(tree, [("TC", "n")], engine.wt.arch.name)
    est.estimate(config)
    names = [n for n in tree.symbols if config.values.get(n) == "y" and tree.type_of(n) == "bool"]
    start = time.perf_counter()
    for n in names:
        est.delta(config, n, "n")
    toggle = (time.perf_counter() - start) / len(names) * 1000
    # estimate() with the per-symbol breakdown, one toggle away from the last call
    # (what the TUI does on a key press), against the same from a fresh state.
    other = buildable(tree, [("TC", "n"), ("VI", "n")], engine.wt.arch.name)
    # Once each first: what is kept per group of symbols is worked out on first use.
    est.estimate(other)
    est.estimate(config)
    start = time.perf_counter()
    for i in range(20):
        est.estimate(other if i % 2 else config)
    full = (time.perf_counter() - start) / 20 * 1000
    fresh_states = [Estimator(est.model, tree) for _ in range(5)]
    start = time.perf_counter()
    for i, fresh_state in enumerate(fresh_states):
        fresh_state.estimate(other if i % 2 else config)
    fresh = (time.perf_counter() - start) / len(fresh_states) * 1000
    base = config_text(tree, config)
    times = []
    for sym in (
        "FEATURE_LS_COLOR",
        "FEATURE_VI_UNDO",
        "FEATURE_FIND_EXEC",
        "FEATURE_EDITING_FANCY_PROMPT",
        "NC",
    ):
        engine.measure(base)
        toggled = buildable(tree, [("TC", "n"), (sym, "n")], engine.wt.arch.name)
        res = engine.measure(config_text(tree, toggled))
        times.append(res.seconds)
        print(
            f"   exact size with {sym}=n: {res.size:,} bytes in {res.seconds:.2f} s "
            f"({res.compiled} compiled, {res.restored} restored)"
        )
    back = engine.measure(base)
    print(f"   exact size back at the measured config: {back.size:,} bytes in {back.seconds:.2f} s")
    print(
        f"latency: delta() {toggle:.3f} ms per toggle (mean of {len(names)}); "
        f"estimate() with breakdown one toggle away {full:.2f} ms (from a fresh state "
        f"{fresh:.1f} ms, x{fresh / full:.1f}); exact size one toggle away: "
        f"median {statistics.median(times):.2f} s, max {max(times):.2f} s"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--arch", action="append", help="a CPU of arches.toml (repeatable; default x86_64, aarch64)"
    )
    ap.add_argument("--all-arches", action="store_true", help="every supported CPU of arches.toml")
    ap.add_argument(
        "--release", default=DEFAULT_RELEASE, help=f"a cached BusyBox release (default {DEFAULT_RELEASE})"
    )
    ap.add_argument(
        "--random", type=int, default=20, help="seeded random configurations per CPU (default 20)"
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--limit", type=int, help="only the first N configurations (for a quick look)")
    ap.add_argument("--kbuild", type=int, default=0, help="also build the first N rows with BusyBox's make")
    ap.add_argument("--json", type=Path, help="also write every row and the per-CPU summary here")
    ap.add_argument(
        "--real-from",
        type=Path,
        action="append",
        help="re-score against the real sizes an earlier run wrote with --json (repeatable): a row "
        "with the same CPU, release, name and values is not built again (a new table, the same binaries)",
    )
    ap.add_argument(
        "--write-coarse-range",
        action="store_true",
        help=f"store each measured CPU's coarse |error| in {RANGE_FILE.relative_to(ROOT)}",
    )
    args = ap.parse_args()
    try:
        arches = known_arches(supported_only=True) if args.all_arches else args.arch or ["x86_64", "aarch64"]
        unknown = [a for a in arches if a not in known_arches()]
        if unknown:
            raise UserError(f"unknown CPU {unknown[0]!r}; known: {', '.join(known_arches())}")
        if not SourceCache().has(args.release):
            raise UserError(
                f"BusyBox {args.release} is not in the source cache: busyconf source fetch {args.release}"
            )
        known = read_known(args.real_from) if args.real_from else None
        rows: list[dict[str, Any]] = []
        results: list[CpuResult] = []
        for arch in arches:
            results.append(
                run_arch(args.release, arch, args.random, args.seed, args.limit, args.kbuild, rows, known)
            )
            if args.json:
                doc = {"release": args.release, "rows": rows, "summary": [r.summary() for r in results]}
                args.json.write_text(json.dumps(doc))
            # Each CPU as soon as it is measured: a run stopped later keeps what it measured.
            ranges = {}
            if args.write_coarse_range:
                ranges = coarse_ranges(args.release, results[-1:], args.random, args.seed)
            if ranges:
                write_ranges(ranges)
                print(f"wrote the coarse range of {arch} to {RANGE_FILE}", flush=True)
        print_summary(args.release, results)
    except BusyconfError as e:
        print(f"size_accuracy: {e}", file=sys.stderr)
        return int(e.exit_code)
    return 0


if __name__ == "__main__":
    sys.exit(main())
