"""Calibration: measure a size model for (release, arch, toolchain) with real builds.

Method (chosen by measurement; see ``bench/size_accuracy.py``), done around
two references, defconfig and allnoconfig, each with every applet on
(:mod:`.references`):

1. The reference ``R`` (known-broken options off) is built once; the exact
   engine (:mod:`busyconf.size.exact`) then measures everything else from
   cached objects.
2. Options that others ``select`` (:func:`.references.selected_candidates`)
   are measured forced off in the compiled headers, and what their code
   reaches only while they are on is found by relinking it both ways
   (:func:`.reach.forced_reach`).
3. Link level (:mod:`.relinks`): ``R``'s objects, compiled with the unit
   tests and the selected options off, are relinked with the real linker,
   once with every applet's ``*_main`` defined away and once per applet
   symbol keeping only that applet. The link maps say which input sections
   each applet keeps alive under ``--gc-sections``; sections with the same
   set of users form a *unit*, so libbb code several applets share is
   counted once. A selected option is one more user of what it reaches.
4. Compile level (:mod:`.toggles`): every bool symbol that some object, host
   program or Kbuild file depends on is toggled from ``R`` (off when on, on
   when off) and the exact stripped size measured. The link-map difference
   is charged to the units whose sections changed (a feature of ``ls`` grows
   ``ls``'s units and counts only while they are live; a libbb feature grows
   the units of every applet that uses that code); what no unit holds is the
   symbol's own cost. Symbols a toggle switches along with it (sub-options)
   are subtracted, so each symbol is charged only for itself. An option
   that cannot be on alone (FEATURE_SUN_LABEL around allnoconfig) is
   measured from the reference with the options it needs on
   (:func:`.references.prerequisites`). A toggle that changes a library
   function is relinked once more, that function alone with the symbol on
   and off: what it reaches only while on (FEATURE_SEAMLESS_XZ: the decoder
   other applets keep) makes the symbol one more user of those units
   (:func:`.reach.library_reach`).
5. The usage texts are left to :mod:`busyconf.size.usage` (from
   ``include/usage.h``, :mod:`.usage_fit`); the model is anchored so that,
   with them, it gives ``R``'s size exactly.
6. Around allnoconfig, a few configurations with random shares of the
   applets are built; what the sparse model gives too many there, as a line
   from allnoconfig to the reference, is taken off (:mod:`.ladder`).

Measuring (:mod:`.run`) keeps what it measured in a state file as it goes
(:mod:`.state`), so an interrupted calibration resumes; every step stops at
the one checkpoint of :class:`.context.Measuring`. What the fit reads is
written as :class:`.measurements.Measurements` (a compact, deterministic
file beside the table); the fit (:mod:`.fit`, :func:`.measurements.refit`)
is pure, and the table a run writes is the re-fit of the measurements it
wrote. A calibration can also run as shards on separate machines, their
partial results merged into the same measurements (:mod:`.shards`).
"""

from __future__ import annotations

from busyconf.size.calibration.context import CalibrationProgress, Progress
from busyconf.size.calibration.fit import build_model
from busyconf.size.calibration.measurements import (
    Measurements,
    Reference,
    measurements_path,
    read_measurements,
    refit,
    refit_file,
    table_text,
    write_measurements,
)
from busyconf.size.calibration.records import LadderPoint, Minimal, Relinks, Toggle, UsageText
from busyconf.size.calibration.references import (
    dependents,
    minimal_assignments,
    prerequisites,
    reference_assignments,
    selected_candidates,
    toggle_candidates,
)
from busyconf.size.calibration.run import calibrate, calibrate_shard, measure, merge_files
from busyconf.size.calibration.shards import Partial, Shard, merge, read_partial

__all__ = [
    "CalibrationProgress",
    "LadderPoint",
    "Measurements",
    "Minimal",
    "Partial",
    "Progress",
    "Reference",
    "Relinks",
    "Shard",
    "Toggle",
    "UsageText",
    "build_model",
    "calibrate",
    "calibrate_shard",
    "dependents",
    "measure",
    "measurements_path",
    "merge",
    "merge_files",
    "minimal_assignments",
    "prerequisites",
    "read_measurements",
    "read_partial",
    "reference_assignments",
    "refit",
    "refit_file",
    "selected_candidates",
    "table_text",
    "toggle_candidates",
    "write_measurements",
]
