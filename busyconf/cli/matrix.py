"""``busyconf matrix``: the CI job matrix of a set of profiles.

::

    busyconf matrix PROFILE... [--arch A[,B...]|all] [--format github|gitlab|json]
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from busyconf.supply.matrix import FORMATS


def register(sub: Any) -> None:
    """Add ``matrix`` to the CLI."""
    p = sub.add_parser(
        "matrix",
        help="the CI job matrix: one build job per profile and CPU (GitHub, GitLab or JSON)",
        description="Load and check every PROFILE, then print one job per (profile, CPU): the profile's "
        "own CPU, every CPU in the list, or every supported CPU with --arch all. Each job names the "
        "profile, arch, release, toolchain, artifact name and output folder. github: the JSON of "
        'strategy.matrix on one line (echo "matrix=$(busyconf matrix ...)" >> $GITHUB_OUTPUT); '
        "gitlab: a child pipeline using parallel: matrix:; json: a plain list.",
    )
    p.add_argument("profiles", nargs="+", metavar="PROFILE", help="profiles (.toml)")
    p.add_argument("--arch", help="A[,B...] or 'all' (every supported CPU); default: each profile's own")
    p.add_argument("--format", choices=FORMATS, default="github", help="github (default), gitlab or json")
    p.set_defaults(func=cmd_matrix)


def cmd_matrix(args: argparse.Namespace) -> int:
    from busyconf.supply.matrix import parse_arches, plan, render

    arches = parse_arches(args.arch)  # before any profile is read
    text = render(plan(args.profiles, arches), args.format)
    sys.stdout.write(text)
    return 0
