"""Fit the coarse model's constants (busyconf/size/labels.py, ``RULE``) on the measured tables.

    python bench/coarse_fit.py [--random 120] [--seed 1000]

The coarse model prices each enabled symbol (its prompt label, else
``unlabelled_share`` x the mean label defconfig enables) and gives
``base_share * D + (1 - base_share) * D * (P / P0) ** power`` with ``P`` the
price sum, ``P0`` defconfig's and ``D`` the CPU's defconfig size. For seeded
random configurations (the generator of size_accuracy.py, another seed) and
the starters it takes the estimate of the measured x86_64 and aarch64 tables
(within about 1 % of real builds) as the reference and prints the median,
mean and max |error| of each grid point, best first, and the rule before
(labels only, added up). Configurations over 2 MB (DEBUG_PESSIMIZE: -O0) are
left out: no label can price them. No build is run.
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.size_accuracy import ROOT, buildable, random_assignments  # noqa: E402
from busyconf.model import load_tree  # noqa: E402
from busyconf.model.profile import load_profile, profile_assignments  # noqa: E402
from busyconf.size import estimator_for  # noqa: E402
from busyconf.size.labels import DEFCONFIG_SIZES, labels, unlabelled  # noqa: E402

RELEASE = "1.38.0"
ARCHES = ("x86_64", "aarch64")
#: (label sum, unlabelled options on, reference size) per configuration.
Point = tuple[int, int, int]


def points(arch: str, n_random: int, seed: int) -> list[Point]:
    tree = load_tree(RELEASE)
    lab, unl = labels(tree), unlabelled(tree)
    est = estimator_for(RELEASE, arch)
    rng = random.Random(seed)
    configs = [buildable(tree, random_assignments(tree, rng), arch) for _ in range(n_random)]
    configs += [
        buildable(tree, profile_assignments(tree, load_profile(p)), arch)
        for p in sorted((ROOT / "configs").glob("*.toml"))
    ]
    out = []
    for c in configs:
        v = c.values
        out.append(
            (
                sum(b for n, b in lab.items() if v.get(n) == "y"),
                sum(1 for n in unl if v.get(n) == "y"),
                est.total(c),
            )
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--random", type=int, default=120)
    ap.add_argument("--seed", type=int, default=1000)
    args = ap.parse_args()
    tree = load_tree(RELEASE)
    with tree.applied([]):
        dv = tree.values()
    lab, unl = labels(tree), unlabelled(tree)
    l0 = sum(b for n, b in lab.items() if dv.get(n) == "y")
    u0 = sum(1 for n in unl if dv.get(n) == "y")
    mean_label = statistics.fmean(b for n, b in lab.items() if dv.get(n) == "y")
    pts = {a: [p for p in points(a, args.random, args.seed) if p[2] < 2_000_000] for a in ARCHES}

    def score(base: float, power: float, share: float) -> list[tuple[float, float, float]]:
        out = []
        for arch, ps in pts.items():
            d = DEFCONFIG_SIZES[arch]
            p0 = l0 + share * mean_label * u0
            errs = [
                abs(base * d + (1 - base) * d * ((lab_on + share * mean_label * u) / p0) ** power - r)
                / r
                * 100
                for lab_on, u, r in ps
            ]
            out.append((statistics.median(errs), statistics.fmean(errs), max(errs)))
        return out

    grid = itertools.product(
        (0, 0.01, 0.02, 0.03, 0.05, 0.08), (0.5, 0.55, 0.6, 0.65, 0.7), (0, 0.1, 0.2, 0.3)
    )
    scored = sorted(((score(*g), g) for g in grid), key=lambda sg: sum(m + mean for m, mean, _ in sg[0]))
    print(f"{len(next(iter(pts.values())))} configurations per CPU; median / mean / max |error| in % per CPU")
    print(f"{'base':>5} {'power':>5} {'share':>5}  " + "  ".join(f"{a:>20}" for a in ARCHES))
    for s, (b, p, u) in [(score(0, 1, 0), (0, 1, 0)), *scored[:10]]:
        cells = "  ".join(f"{m:6.2f} {mean:6.2f} {top:6.1f}" for m, mean, top in s)
        print(f"{b:>5} {p:>5} {u:>5}  {cells}")


if __name__ == "__main__":
    main()
