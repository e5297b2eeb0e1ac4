"""Size estimates against real stripped binaries.

    python bench/size_accuracy.py [--arch x86_64 --arch aarch64] [--random 20] [--seed 1]
                                  [--limit N] [--kbuild N]

For each CPU it builds every starter profile (configs/*.toml), Debian's three
configs (deb, static, udeb from busybox 1:1.38.0-3: the Debian tarball in
``~/.cache/busyconf-testdata``, else ``apt-get source --download-only``) and
seeded random valid configurations, and prints the estimate, the real stripped
size and the error, then the median and max absolute error; the same for
BusyBox's own prompt labels (as printed, and scaled to the CPU's defconfig).

The real size comes from the exact engine (objects compiled for the
configuration's own symbol values, linked by the real linker; the tests check
it equals a kbuild build). ``--kbuild N`` also builds the first N rows with
BusyBox's own make and prints both sizes. It then times a toggle of the
estimate and the exact size of a configuration one toggle away from a
measured one.
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
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from busyconf.build import broken  # noqa: E402
from busyconf.errors import BuildError  # noqa: E402
from busyconf.model import load_tree, resolve  # noqa: E402
from busyconf.model.config import Configuration  # noqa: E402
from busyconf.model.dotconfig import dotconfig_text, parse_dotconfig  # noqa: E402
from busyconf.model.kconfig import KconfigTree  # noqa: E402
from busyconf.model.profile import allnoconfig_assignments, load_profile, profile_assignments  # noqa: E402
from busyconf.size import Estimator, estimator_for  # noqa: E402
from busyconf.size.cost_model import Evaluation, enabled_names  # noqa: E402
from busyconf.size.exact import ExactEngine, engine_for  # noqa: E402
from busyconf.size.labels import label_model  # noqa: E402
from busyconf.size.workdir import make_binary  # noqa: E402

RELEASE = "1.38.0"
DEBIAN = "busybox_1.38.0-3.debian.tar.xz"


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
    problems = broken.check(config.values, release=RELEASE, toolchain="zig", arch=arch)
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


def summary(name: str, errs: list[float]) -> str:
    a = [abs(e) for e in errs]
    return f"{name:<30} median |err| {statistics.median(a):6.2f} %   max |err| {max(a):6.2f} %   (n={len(a)})"


def label_total(model: Any, config: Configuration) -> int:
    ev = Evaluation(model)
    ev.sync(enabled_names(config.values, model))
    return ev.total


def run_arch(
    arch: str, n_random: int, seed: int, limit: int | None, kbuild: int, rows_out: list[dict[str, Any]]
) -> dict[str, Any]:
    tree = load_tree(RELEASE)
    est = estimator_for(RELEASE, arch)
    raw = label_model(tree, None)
    scaled = label_model(tree, arch)
    engine = engine_for(RELEASE, arch)
    cases = configs(tree, arch, n_random, seed)
    if limit:
        cases = dict(list(cases.items())[:limit])
    print(f"\n== {arch}: {est.basis}", flush=True)
    cols = ("real", "estimate", "err %", "labels", "err %", "scaled", "err %", "exact s")
    widths = (10, 10, 7, 10, 7, 10, 7, 8)
    print(f"{'config':<26} " + " ".join(f"{c:>{w}}" for c, w in zip(cols, widths, strict=True)), flush=True)
    errs: dict[str, list[float]] = {"estimate": [], "labels": [], "scaled": []}
    for i, (name, config) in enumerate(cases.items()):
        text = config_text(tree, config)
        try:
            res = engine.measure(text)
        except BuildError as e:
            print(f"{name:<26} does not build: {str(e)[-160:]}", flush=True)
            continue
        real = res.size
        if i < kbuild:
            built = make_binary(engine.wt, text)
            same = "equal" if built == real else "DIFFERENT"
            print(f"   kbuild build of {name}: {built:,} bytes (exact engine {real:,}, {same})")
        rows_out.append({"arch": arch, "name": name, "real": real, "values": config.values})
        e = est.total(config)
        rows = {"estimate": e, "labels": label_total(raw, config), "scaled": label_total(scaled, config)}
        for key, v in rows.items():
            errs[key].append(pct(v, real))
        print(
            f"{name:<26} {real:>10,} {e:>10,} {pct(e, real):>+7.2f} {rows['labels']:>10,} "
            f"{pct(rows['labels'], real):>+7.1f} {rows['scaled']:>10,} {pct(rows['scaled'], real):>+7.1f} "
            f"{res.seconds:>8.1f}",
            flush=True,
        )
    print(summary(f"{arch} estimate", errs["estimate"]))
    print(summary(f"{arch} labels as printed", errs["labels"]))
    print(summary(f"{arch} labels scaled to {arch}", errs["scaled"]))
    latency(tree, est, engine)
    return errs


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", action="append")
    ap.add_argument("--random", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--limit", type=int, help="only the first N configurations (for a quick look)")
    ap.add_argument("--kbuild", type=int, default=0, help="also build the first N rows with BusyBox's make")
    ap.add_argument("--json", type=Path, help="also write each row's real size and configuration here")
    args = ap.parse_args()
    rows: list[dict[str, Any]] = []
    for arch in args.arch or ["x86_64", "aarch64"]:
        run_arch(arch, args.random, args.seed, args.limit, args.kbuild, rows)
        if args.json:
            args.json.write_text(json.dumps(rows))


if __name__ == "__main__":
    main()
