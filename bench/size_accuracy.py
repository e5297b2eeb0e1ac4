"""Size estimates against real stripped binaries.

    python bench/size_accuracy.py [--arch x86_64 --arch aarch64] [--random 20] [--seed 1] [--limit N]

For each CPU it builds every starter profile (configs/*.toml), Debian's three
configs (deb, static, udeb from busybox 1:1.38.0-3; fetched with
``apt-get source --download-only`` into a temp dir when /tmp/deb is absent) and
seeded random valid configurations, and prints the estimate, the real size and
the error, then the median and max absolute error; the same for BusyBox's own
prompt labels (unscaled, as printed, and scaled to the CPU). It also times a
toggle of the estimate and the exact size of a configuration one toggle away
from a measured one.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from busyconf.build import broken  # noqa: E402
from busyconf.model import load_tree, resolve  # noqa: E402
from busyconf.model.config import Configuration  # noqa: E402
from busyconf.model.dotconfig import parse_dotconfig, write_dotconfig  # noqa: E402
from busyconf.model.kconfig import KconfigTree  # noqa: E402
from busyconf.model.profile import load_profile, profile_assignments  # noqa: E402
from busyconf.size import estimator_for  # noqa: E402
from busyconf.size.labels import label_model  # noqa: E402
from busyconf.size.model import Evaluation, enabled_names  # noqa: E402
from busyconf.size.workdir import make_binary, open_worktree  # noqa: E402

RELEASE = "1.38.0"


def debian_configs() -> dict[str, Path]:
    folder = Path("/tmp/deb/debian/config/pkg")
    if not folder.is_dir():
        tmp = Path(tempfile.mkdtemp(prefix="busyconf-deb-"))
        subprocess.run(["apt-get", "source", "--download-only", "busybox=1:1.38.0-3"], cwd=tmp, check=True)
        deb = next(tmp.glob("busybox_*.debian.tar.*"))
        subprocess.run(["tar", "-xf", str(deb), "-C", str(tmp)], check=True)
        folder = tmp / "debian" / "config" / "pkg"
    return {f"debian-{n}": folder / n for n in ("deb", "static", "udeb")}


def buildable(tree: KconfigTree, assignments: list[tuple[str, str]], arch: str) -> Configuration:
    """The configuration as busyconf builds it: known-broken options off, static."""
    config = resolve(tree, assignments)
    problems = broken.check(config.values, release=RELEASE, toolchain="zig", arch=arch)
    extra = [(p.symbol, "n") for p in problems] + [("STATIC", "y")]
    return resolve(tree, assignments + extra)


def random_assignments(tree: KconfigTree, rng: random.Random) -> list[tuple[str, str]]:
    """defconfig or allnoconfig, then a random share of bool options flipped."""
    from busyconf.model.profile import allnoconfig_assignments

    base = allnoconfig_assignments(tree) if rng.random() < 0.3 else []
    config = resolve(tree, base)
    p = rng.choice((0.05, 0.15, 0.3, 0.5))
    bools = [n for n in tree.symbols if tree.type_of(n) == "bool" and n not in ("STATIC", "PIE", "NOMMU")]
    flips = [(n, "n" if config.values.get(n) == "y" else "y") for n in bools if rng.random() < p]
    return base + flips


def configs(tree: KconfigTree, arch: str, n_random: int, seed: int) -> dict[str, Configuration]:
    out: dict[str, Configuration] = {}
    for path in sorted((ROOT / "configs").glob("*.toml")):
        out[f"starter-{path.stem}"] = buildable(tree, profile_assignments(tree, load_profile(path)), arch)
    for name, path in debian_configs().items():
        dot = parse_dotconfig(path.read_text(), str(path), tree, drop_unknown=True)
        out[name] = buildable(tree, dot.assignments, arch)
    rng = random.Random(seed)
    for i in range(n_random):
        out[f"random-{i:02d}"] = buildable(tree, random_assignments(tree, rng), arch)
    return out


def dotconfig_text(tree: KconfigTree, config: Configuration) -> str:
    with tree.lock:
        tree.apply(list(config.values.items()))
        return write_dotconfig(tree)


def pct(est: int, real: int) -> float:
    return (est - real) / real * 100


def summary(name: str, errs: list[float]) -> str:
    a = [abs(e) for e in errs]
    return f"{name:<28} median |err| {statistics.median(a):6.2f} %   max |err| {max(a):6.2f} %   (n={len(a)})"


def run_arch(arch: str, n_random: int, seed: int, limit: int | None) -> None:
    tree = load_tree(RELEASE)
    est = estimator_for(RELEASE, arch)
    raw = label_model(tree, None)
    scaled = label_model(tree, arch)
    wt = open_worktree(RELEASE, arch)
    cases = configs(tree, arch, n_random, seed)
    if limit:
        cases = dict(list(cases.items())[:limit])
    print(f"\n== {arch}: {est.basis}")
    print(f"{'config':<24} {'real':>10} {'estimate':>10} {'err %':>7} {'labels':>10} {'err %':>7} {'scaled':>10} {'err %':>7}")
    errs: dict[str, list[float]] = {"estimate": [], "labels": [], "scaled": []}
    for name, config in cases.items():
        real = make_binary(wt, dotconfig_text(tree, config))
        e = est.total(config)
        rows = {"estimate": e}
        for key, model in (("labels", raw), ("scaled", scaled)):
            ev = Evaluation(model)
            ev.sync(enabled_names(config.values, model))
            rows[key] = ev.total
        for key, v in rows.items():
            errs[key].append(pct(v, real))
        print(
            f"{name:<24} {real:>10,} {e:>10,} {pct(e, real):>+7.2f} {rows['labels']:>10,} "
            f"{pct(rows['labels'], real):>+7.1f} {rows['scaled']:>10,} {pct(rows['scaled'], real):>+7.1f}",
            flush=True,
        )
    print(summary(f"{arch} estimate", errs["estimate"]))
    print(summary(f"{arch} labels as printed", errs["labels"]))
    print(summary(f"{arch} labels scaled", errs["scaled"]))
    latency(tree, est, wt)


def latency(tree: KconfigTree, est, wt) -> None:  # type: ignore[no-untyped-def]
    config = buildable(tree, [], wt.arch.name)
    est.estimate(config)
    names = [n for n in tree.symbols if config.values.get(n) == "y" and tree.type_of(n) == "bool"][:200]
    start = time.perf_counter()
    for n in names:
        est.delta(config, n, "n")
    toggle = (time.perf_counter() - start) / len(names) * 1000
    start = time.perf_counter()
    est.estimate(config)
    full = (time.perf_counter() - start) * 1000
    make_binary(wt, dotconfig_text(tree, config))
    toggled = resolve(tree, [(k, v) for k, v in config.values.items() if tree.type_of(k) == "bool"] + [("FEATURE_LS_COLOR", "n")])
    start = time.perf_counter()
    make_binary(wt, dotconfig_text(tree, toggled))
    exact = time.perf_counter() - start
    print(f"latency: delta() {toggle:.3f} ms per toggle; estimate() with breakdown {full:.2f} ms; "
          f"exact size one toggle away (kbuild incremental + link) {exact:.1f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", action="append")
    ap.add_argument("--random", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--limit", type=int, help="only the first N configurations (for a quick look)")
    args = ap.parse_args()
    for arch in args.arch or ["x86_64", "aarch64"]:
        run_arch(arch, args.random, args.seed, args.limit)


if __name__ == "__main__":
    main()
