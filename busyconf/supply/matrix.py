"""CI job matrices: one build job per (profile, CPU), for GitHub Actions, GitLab CI or plain JSON.

Profiles are untrusted input: each one is loaded and resolved (so a bad profile
fails here, on the planning job, not on one of fifty build jobs), and the
strings that reach a CI file are held to a narrow alphabet so a profile's path
can be neither a shell nor a YAML injection.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from busyconf.errors import UserError

FORMATS = ("github", "gitlab", "json")

#: GitHub Actions runs at most 256 jobs from one matrix.
GITHUB_MAX_JOBS = 256
#: GitLab runs at most 200 jobs from one ``parallel: matrix:``.
GITLAB_MAX_JOBS = 200

# Letters, digits and . _ - / only: safe in a shell word, a YAML scalar, an artifact name and a path.
_SAFE = re.compile(r"^[A-Za-z0-9._/-]{1,200}$")


@dataclass(frozen=True)
class Job:
    """One build of one profile for one CPU; the keys are what the workflow reads as ``matrix.KEY``."""

    profile: str
    name: str
    arch: str
    release: str
    toolchain: str
    artifact: str
    output: str


def _safe(text: str, what: str, where: str) -> str:
    if not _SAFE.match(text) or ".." in text.split("/"):
        shown = text.encode("unicode_escape").decode("ascii")[:80]
        raise UserError(
            f"{where}: {what} {shown!r} cannot go into a CI file: letters, digits and . _ - / only"
        )
    return text


def parse_arches(spec: str | None) -> list[str] | None:
    """``--arch``: None (each profile's own), ``all`` (every supported CPU) or ``a,b``; checked names."""
    from busyconf.build.arch import all_arches, get_arch

    if spec is None:
        return None
    if spec.strip() == "all":
        return [a.name for a in all_arches().values() if a.supported]
    names = [s.strip() for s in spec.split(",")]
    out: list[str] = []
    for name in names:
        if not name:
            raise UserError(f"--arch {spec!r}: an empty CPU name in the list")
        arch = get_arch(name)
        if not arch.supported:
            raise UserError(f"--arch {name}: not supported: {arch.reason}")
        if name not in out:
            out.append(name)
    return out


def plan(profiles: Sequence[str], arches: list[str] | None) -> list[Job]:
    """The jobs, profile by profile in the order given, each profile's CPUs in ``arches.toml`` order.

    Raises:
        UserError: a profile that does not load or resolve, a name unsafe for a CI file, two profiles
            with the same name (their artifacts would collide), a CPU not supported.
    """
    from busyconf.build.arch import all_arches, get_arch
    from busyconf.build.toolchain import check_toolchain_name
    from busyconf.model.profile import load_profile, resolve_profile

    if not profiles:
        raise UserError("matrix: no profiles given")
    order = list(all_arches())
    jobs: list[Job] = []
    seen: dict[str, str] = {}
    for path in profiles:
        prof = load_profile(Path(path))
        config = resolve_profile(prof)
        name = Path(path).stem
        _safe(path, "the profile path", path)
        _safe(name, "the profile name", path)
        if name in seen:
            if seen[name] == path:
                raise UserError(f"{path}: listed twice")
            raise UserError(f"{path}: same name as {seen[name]}; their artifacts would collide")
        seen[name] = path
        check_toolchain_name(prof.toolchain)
        _safe(prof.toolchain, "the toolchain", path)
        _safe(config.release, "the release", path)
        wanted = [prof.arch] if arches is None else arches
        for arch in sorted(wanted, key=order.index):
            a = get_arch(arch)
            if not a.supported:
                raise UserError(f"{path}: arch {arch} is not supported: {a.reason}")
            jobs.append(
                Job(
                    profile=path,
                    name=name,
                    arch=arch,
                    release=config.release,
                    toolchain=prof.toolchain,
                    artifact=f"busybox-{name}-{arch}-{config.release}",
                    output=f"out/{name}-{arch}",
                )
            )
    return jobs


def render(jobs: Sequence[Job], fmt: str) -> str:
    """The matrix as text ending in a newline: ``github`` on one line, ``gitlab`` YAML, ``json``."""
    if fmt == "github":
        if len(jobs) > GITHUB_MAX_JOBS:
            raise UserError(f"matrix: {len(jobs)} jobs, GitHub runs at most {GITHUB_MAX_JOBS} per matrix")
        return json.dumps({"include": [asdict(j) for j in jobs]}, separators=(",", ":")) + "\n"
    if fmt == "gitlab":
        if len(jobs) > GITLAB_MAX_JOBS:
            raise UserError(f"matrix: {len(jobs)} jobs, GitLab runs at most {GITLAB_MAX_JOBS} per matrix")
        return gitlab_pipeline(jobs)
    if fmt == "json":
        return json.dumps([asdict(j) for j in jobs], indent=2) + "\n"
    raise UserError(f"unknown matrix format {fmt!r}: one of {', '.join(FORMATS)}")


def _q(text: str) -> str:
    # Every value matched _SAFE, so a JSON string is also a valid YAML double-quoted scalar.
    return json.dumps(text)


def gitlab_pipeline(jobs: Sequence[Job]) -> str:
    """A child pipeline: one ``build`` job whose ``parallel: matrix:`` holds one entry per job.

    Each entry has one value per variable (no lists), so GitLab's cross product is the job itself.
    Written by hand: every value is a plain quoted string, and PyYAML is not a dependency.
    """
    lines = [
        "# Generated by busyconf matrix --format gitlab; run it as a child pipeline (trigger: include:).",
        "stages: [build]",
        "build:",
        "  stage: build",
        '  image: "python:3.11-bookworm"',
        "  before_script:",
        '    - "apt-get update && apt-get install -y --no-install-recommends make qemu-user-static llvm"',
        '    - "pip install ."',
        "  script:",
        '    - "busyconf source fetch \\"$RELEASE\\""',
        '    - "busyconf build \\"$PROFILE\\" --arch \\"$ARCH\\" --toolchain \\"$TOOLCHAIN\\"'
        ' -o \\"$OUTPUT\\""',
        "  artifacts:",
        '    name: "$ARTIFACT"',
        "    paths:",
        '      - "$OUTPUT"',
        "  parallel:",
        "    matrix:",
    ]
    for j in jobs:
        lines.append(f"      - PROFILE: {_q(j.profile)}")
        for key, value in (
            ("NAME", j.name),
            ("ARCH", j.arch),
            ("RELEASE", j.release),
            ("TOOLCHAIN", j.toolchain),
            ("ARTIFACT", j.artifact),
            ("OUTPUT", j.output),
        ):
            lines.append(f"        {key}: {_q(value)}")
    return "\n".join(lines) + "\n"
